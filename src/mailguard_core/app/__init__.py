"""The composition root (:mod:`.bootstrap`), the library's ``open_mailbox`` built on it, and the
``mailguard`` command line."""
