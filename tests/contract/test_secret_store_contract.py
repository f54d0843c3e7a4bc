"""The ``SecretStore`` contract across the fake, keyrings.alt's file backend, the real
SecretService (gnome-keyring on a private D-Bus), and the keyring+environment chain."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import keyring.backend
import keyring.backends.fail
import pytest
from keyrings.alt.file import PlaintextKeyring

from mailguard_core.adapters.keyring_secrets import (
    SERVICE,
    ChainSecretStore,
    EnvSecretStore,
    KeyringSecretStore,
    env_var_name,
)
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.model.errors import InputError, MailguardError, SecretUnavailable
from mailguard_core.ports.secrets import Secret, SecretStore

VALUES = ["hunter2", "pässwörd ✓ 密码", " spaces around ", "a=b;c:d'\"\\", "x" * 500]


class SecretStoreContract:
    """Behaviour every writable SecretStore must show; subclasses provide ``store``."""

    @pytest.fixture
    def store(self) -> SecretStore:
        raise NotImplementedError

    def test_a_missing_entry_raises_secret_unavailable_naming_the_account(
        self, store: SecretStore
    ) -> None:
        """get of an unknown account is SecretUnavailable mentioning that account."""
        with pytest.raises(SecretUnavailable) as info:
            store.get("nobody-here")
        assert "nobody-here" in info.value.public_message

    @pytest.mark.parametrize("value", VALUES)
    def test_set_then_get_round_trips_any_non_empty_string(
        self, store: SecretStore, value: str
    ) -> None:
        """The exact string comes back, wrapped in a Secret."""
        store.set("work", Secret(value))
        secret = store.get("work")
        assert isinstance(secret, Secret) and secret.reveal() == value

    def test_set_overwrites_and_accounts_are_independent(self, store: SecretStore) -> None:
        """A second set replaces the first; another account's entry is untouched."""
        store.set("work", Secret("one"))
        store.set("home", Secret("other"))
        store.set("work", Secret("two"))
        assert store.get("work").reveal() == "two"
        assert store.get("home").reveal() == "other"

    def test_delete_removes_the_entry_and_deleting_a_missing_one_is_a_no_op(
        self, store: SecretStore
    ) -> None:
        """After delete, get raises; a second delete does nothing."""
        store.set("work", Secret("pw"))
        store.delete("work")
        with pytest.raises(SecretUnavailable):
            store.get("work")
        store.delete("work")
        store.delete("never-existed")

    def test_an_empty_secret_is_refused(self, store: SecretStore) -> None:
        """Storing "" is an InputError (it would read back as "no secret")."""
        with pytest.raises(InputError):
            store.set("work", Secret(""))

    def test_no_error_shows_a_stored_value(self, store: SecretStore) -> None:
        """Errors about one account never carry another account's secret."""
        store.set("work", Secret("Top-Secret-Value"))
        with pytest.raises(MailguardError) as info:
            store.get("home")
        assert "Top-Secret-Value" not in str(info.value)
        assert "Top-Secret-Value" not in info.value.public_message
        assert "Top-Secret-Value" not in repr(store.get("work"))


class TestInMemorySecretStore(SecretStoreContract):
    @pytest.fixture
    def store(self) -> SecretStore:
        return InMemorySecretStore()


class TestKeyringFileBackend(SecretStoreContract):
    """keyrings.alt's plaintext file backend, in a temporary directory."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> SecretStore:
        backend = PlaintextKeyring()
        backend.file_path = str(tmp_path / "keyring.cfg")
        return KeyringSecretStore(backend=backend)

    def test_entries_live_under_the_mailguard_service_one_per_account(self, tmp_path: Path) -> None:
        """The keyring sees service "mailguard" and the account name as the username."""
        backend = PlaintextKeyring()
        backend.file_path = str(tmp_path / "keyring.cfg")
        KeyringSecretStore(backend=backend).set("work", Secret("pw"))
        assert SERVICE == "mailguard"
        assert backend.get_password("mailguard", "work") == "pw"


def _read_line(stream: object, timeout: float) -> str:
    assert hasattr(stream, "readline") and hasattr(stream, "fileno")
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError("no output")
    line: str = stream.readline()
    return line.strip()


def _wait_for_secret_service(address: str, daemon: subprocess.Popen[bytes]) -> None:
    """Poll the bus (bounded: 10 s) until gnome-keyring owns org.freedesktop.secrets."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    deadline = time.monotonic() + 10.0
    with open_dbus_connection(bus=address) as connection:
        for _ in range(1000):
            reply = connection.send_and_get_reply(
                message_bus.NameHasOwner("org.freedesktop.secrets"), timeout=2.0
            )
            if reply.body[0]:
                return
            if daemon.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    raise RuntimeError(f"gnome-keyring did not register on the bus (exit {daemon.poll()})")


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mapping[str, str]]:
    """A private D-Bus session with an unlocked gnome-keyring (the SecretService API)."""
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"SecretService test needs {' and '.join(missing)} (not installed)")
    home = tmp_path_factory.mktemp("keyring-home")
    (home / "run").mkdir(mode=0o700)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "share"),
        "XDG_RUNTIME_DIR": str(home / "run"),
    }
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1",
         f"--address=unix:tmpdir={home}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )  # fmt: skip
    daemon = None
    try:
        assert bus.stdout is not None
        env["DBUS_SESSION_BUS_ADDRESS"] = _read_line(bus.stdout, 10)
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env,
        )  # fmt: skip
        assert daemon.stdin is not None
        daemon.stdin.write(b"test-keyring-password")
        daemon.stdin.close()
        _wait_for_secret_service(env["DBUS_SESSION_BUS_ADDRESS"], daemon)
        with pytest.MonkeyPatch.context() as patch:
            for key in ("DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
                patch.setenv(key, env[key])
            yield env
    finally:
        for process in (daemon, bus):
            if process is not None:
                process.kill()
                process.wait(timeout=10)
        if bus.stdout is not None:
            bus.stdout.close()


class TestKeyringSecretService(SecretStoreContract):
    """The real SecretService backend talking to gnome-keyring over D-Bus."""

    @pytest.fixture
    def store(self, secret_service: Mapping[str, str]) -> Iterator[SecretStore]:
        from keyring.backends.SecretService import Keyring as SecretServiceKeyring

        store = KeyringSecretStore(service="mailguard-test", backend=SecretServiceKeyring())
        yield store
        for account in ("work", "home"):
            store.delete(account)

    def test_the_value_is_visible_to_other_secret_service_clients(
        self, store: SecretStore, secret_service: Mapping[str, str]
    ) -> None:
        """secret-tool (libsecret) reads what mailguard stored, if it is installed."""
        store.set("work", Secret("shared-pw"))
        if shutil.which("secret-tool") is None:
            pytest.skip("secret-tool (libsecret-tools) not installed")
        found = subprocess.run(
            ["secret-tool", "lookup", "service", "mailguard-test", "username", "work"],
            env=dict(secret_service), capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        assert found.stdout == "shared-pw"


class TestChainOfKeyringAndEnvironment(SecretStoreContract):
    """Writes go to the keyring; reads fall back to the environment."""

    @pytest.fixture
    def store(self) -> SecretStore:
        return ChainSecretStore(InMemorySecretStore(), EnvSecretStore({}))


class _BrokenBackend(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("dbus exploded: secret detail")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("dbus exploded")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("dbus exploded")


def test_a_failing_keyring_backend_is_secret_unavailable_without_its_message() -> None:
    """Backend exceptions are translated; their text stays out of the public message."""
    store = KeyringSecretStore(backend=_BrokenBackend())
    for call in (lambda: store.get("work"), lambda: store.set("work", Secret("x")),
                 lambda: store.delete("work")):  # fmt: skip
        with pytest.raises(SecretUnavailable) as info:
            call()
        assert "exploded" not in info.value.public_message


def test_no_keyring_at_all_is_secret_unavailable() -> None:
    """The "fail" backend (no keyring installed) gives a typed error, not KeyringError."""
    with pytest.raises(SecretUnavailable):
        KeyringSecretStore(backend=keyring.backends.fail.Keyring()).get("work")


@pytest.mark.parametrize(
    ("account", "variable"),
    [
        ("work", "MAILGUARD_WORK_PASSWORD"),
        ("my-mail.box", "MAILGUARD_MY_MAIL_BOX_PASSWORD"),
        ("A_b", "MAILGUARD_A_B_PASSWORD"),
    ],
)
def test_environment_variable_names_upper_case_and_replace_dashes_and_dots(
    account: str, variable: str
) -> None:
    """MAILGUARD_<ACCOUNT>_PASSWORD with '-' and '.' as '_'."""
    assert env_var_name(account) == variable
    assert EnvSecretStore({variable: "pw"}).get(account).reveal() == "pw"


def test_the_environment_store_is_read_only_and_empty_values_count_as_missing() -> None:
    """set/delete raise SecretUnavailable naming the variable; "" is no secret."""
    store = EnvSecretStore({"MAILGUARD_WORK_PASSWORD": ""})
    with pytest.raises(SecretUnavailable):
        store.get("work")
    with pytest.raises(SecretUnavailable) as info:
        store.set("work", Secret("pw"))
    assert "MAILGUARD_WORK_PASSWORD" in info.value.public_message
    with pytest.raises(SecretUnavailable):
        store.delete("work")


def test_the_chain_falls_back_to_the_environment_when_the_keyring_is_broken() -> None:
    """A broken or empty keyring does not hide the environment variable."""
    env = EnvSecretStore({"MAILGUARD_WORK_PASSWORD": "from-env"})
    assert (
        ChainSecretStore(KeyringSecretStore(backend=_BrokenBackend()), env).get("work").reveal()
        == "from-env"
    )
    keyring_first = InMemorySecretStore({"work": "from-keyring"})
    assert ChainSecretStore(keyring_first, env).get("work").reveal() == "from-keyring"


def test_the_chain_error_says_how_to_provide_the_secret() -> None:
    """Nothing anywhere: the message names the login command and the variable."""
    with pytest.raises(SecretUnavailable) as info:
        ChainSecretStore(InMemorySecretStore(), EnvSecretStore({})).get("work")
    assert "mailguard-mcp login work" in info.value.public_message
    assert "MAILGUARD_WORK_PASSWORD" in info.value.public_message


def test_a_secret_never_shows_its_value() -> None:
    """repr, str, format and f-strings of a Secret are masked; pickling is refused."""
    import pickle

    secret = Secret("p@ss")
    assert "p@ss" not in f"{secret} {secret!r} {secret:>20} {[secret]} { ({'k': secret}) }"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
