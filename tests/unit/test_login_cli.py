"""``mailguard-mcp login``: prompts without echo, stores in the keyring, never prints secrets."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from mailguard_core.adapters.keyring_secrets import KeyringSecretStore
from mailguard_core.adapters.memory_secrets import InMemorySecretStore
from mailguard_core.model.errors import SecretUnavailable
from mailguard_core.ports.secrets import Secret
from mailguard_mcp import login_cli

CONFIG = """
[[accounts]]
name = "work"
address = "me@example.com"
[accounts.imap]
host = "imap.example.com"
username = "me"
"""


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return str(path)


def run(argv: list[str], store: object, answers: list[str] | None = None,
        stdin: str | None = None) -> tuple[int, str, str, list[str]]:  # fmt: skip
    """Run the command with a scripted prompt; returns (code, stdout, stderr, prompts)."""
    prompts: list[str] = []
    replies = list(answers or [])

    def prompt(text: str) -> str:
        prompts.append(text)
        return replies.pop(0)

    out, err = io.StringIO(), io.StringIO()
    code = login_cli.main(
        argv,
        store=store,  # type: ignore[arg-type]
        prompt=prompt,
        stdin=io.StringIO(stdin) if stdin is not None else None,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue(), prompts


def test_login_prompts_twice_and_stores_the_password_in_the_keyring(
    config: str, tmp_path: Path
) -> None:
    """The password typed twice lands under service mailguard / the account name."""
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "kr.cfg")
    code, out, err, prompts = run(
        ["work", "--config", config], KeyringSecretStore(backend=backend), ["s3cret!", "s3cret!"]
    )
    assert code == 0, err
    assert backend.get_password("mailguard", "work") == "s3cret!"
    assert prompts == ["Password for work (me@example.com): ", "Repeat the password: "]
    assert "s3cret!" not in out + err + "".join(prompts)
    assert "Stored the password of work" in out


def test_the_default_prompt_is_getpass_which_does_not_echo() -> None:
    """Without an injected prompt, login uses getpass.getpass (no echo)."""
    import getpass
    import inspect

    assert inspect.signature(login_cli.main).parameters["prompt"].default is getpass.getpass


def test_mismatched_passwords_store_nothing(config: str) -> None:
    """Two different entries abort with exit status 2."""
    store = InMemorySecretStore()
    code, _, err, _ = run(["work", "--config", config], store, ["one", "two"])
    assert code == 2 and "do not match" in err
    with pytest.raises(SecretUnavailable):
        store.get("work")


def test_an_empty_password_is_refused(config: str) -> None:
    """Pressing enter twice stores nothing."""
    store = InMemorySecretStore()
    code, _, err, _ = run(["work", "--config", config], store, ["", ""])
    assert code == 2 and "empty" in err


def test_password_stdin_reads_one_line_for_scripts(config: str) -> None:
    """--password-stdin takes the first line without its newline and does not prompt."""
    store = InMemorySecretStore()
    code, _, _, prompts = run(
        ["work", "--config", config, "--password-stdin"], store, stdin="pw from pipe\nrest\n"
    )
    assert code == 0 and prompts == []
    assert store.get("work").reveal() == "pw from pipe"


def test_an_unknown_account_is_a_config_error(config: str) -> None:
    """Only configured accounts can log in; exit status 2."""
    code, _, err, _ = run(["home", "--config", config], InMemorySecretStore(), ["x", "x"])
    assert code == 2 and "home" in err


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    """A config path that does not exist gives exit status 2 and a clear message."""
    code, _, err, _ = run(
        ["work", "--config", str(tmp_path / "none.toml")], InMemorySecretStore(), ["x", "x"]
    )
    assert code == 2 and "not found" in err


def test_delete_removes_the_stored_password(config: str) -> None:
    """--delete forgets the entry."""
    store = InMemorySecretStore({"work": "old"})
    code, out, _, _ = run(["work", "--config", config, "--delete"], store)
    assert code == 0 and "Removed" in out
    with pytest.raises(SecretUnavailable):
        store.get("work")


def test_a_broken_keyring_fails_cleanly_and_suggests_the_environment_variable(
    config: str,
) -> None:
    """A keyring error is exit status 1 with the fallback variable named."""

    class Broken(InMemorySecretStore):
        def set(self, account: str, secret: Secret) -> None:
            raise SecretUnavailable("dbus down", public="the OS keyring is unavailable")

    code, _, err, _ = run(["work", "--config", config], Broken(), ["pw", "pw"])
    assert code == 1
    assert "MAILGUARD_WORK_PASSWORD" in err and "pw" not in err.replace("password", "")


def test_audit_hmac_generates_a_random_key_once() -> None:
    """login audit-hmac stores 64 hex digits and refuses to replace them silently."""
    store = InMemorySecretStore()
    code, out, _, prompts = run(["audit-hmac"], store)
    assert code == 0 and prompts == []
    key = store.get("audit-hmac").reveal()
    assert len(key) == 64 and int(key, 16) >= 0
    assert key not in out
    code, _, err, _ = run(["audit-hmac"], store)
    assert code == 2 and "--replace" in err and store.get("audit-hmac").reveal() == key
    code, _, _, _ = run(["audit-hmac", "--replace"], store)
    assert code == 0 and store.get("audit-hmac").reveal() != key


def test_ctrl_c_at_the_prompt_stores_nothing(config: str) -> None:
    """KeyboardInterrupt during the prompt exits 1 without a traceback."""
    store = InMemorySecretStore()

    def interrupt(_: str) -> str:
        raise KeyboardInterrupt

    err = io.StringIO()
    code = login_cli.main(["work", "--config", config], store=store, prompt=interrupt, err=err)
    assert code == 1 and "cancelled" in err.getvalue()


def test_the_mailguard_mcp_dispatcher_runs_login_with_the_default_keyring(
    config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailguard-mcp login work --password-stdin` stores through keyring's active backend."""
    import keyring

    from mailguard_mcp import cli

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "kr.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("via-dispatcher\n"))
        assert cli.main(["login", "work", "--config", config, "--password-stdin"]) == 0
    finally:
        keyring.set_keyring(previous)
    assert backend.get_password("mailguard", "work") == "via-dispatcher"
