"""Output sets: every command's files are built in a staging folder and put in place as a whole.

An output set is what one command leaves in one folder: the report, its PDF and notebook,
metrics.json, the model, the resolved parameters and figures for ``titanic render``; all but the
report for ``titanic run``; a variant's report, notebook, metrics and log for ``titanic sweep``.
The same mechanism serves them all:

1. :class:`Staging` makes ``<folder>/.staging-<run id>/`` (same filesystem as the folder, so
   every later move is one ``rename``), holding an exclusive ``flock`` on a lock file inside it
   for as long as its process lives.
2. The command writes its files there; :func:`seal` then writes ``manifest.json``: run id,
   command, sha256 of the parameters, and the sha256 and size of every file.
3. :func:`publish`, under an exclusive lock on the folder, moves the files that the set
   replaces or no longer contains into ``.backup-<run id>/``, moves the new files in
   (``manifest.json`` last) and deletes the backup. A journal written first lists every move:
   on an error the moves are undone at once, and after a crash (``kill -9``) the next command
   that publishes into the folder undoes them from the journal. Either way the folder holds the
   previous set or the new one, never a mix, and no file of an older set poses as part of the new.
4. :func:`verify` checks a folder against its manifest; the sweep's cache serves nothing else.

Staging folders whose owner died (its lock is free) are removed by :func:`remove_stale`, which
every command calls on its folder before it stages anything.
"""

from __future__ import annotations

import errno
import fcntl
import fnmatch
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from titanic.errors import OutputError
from titanic.fingerprint import file_sha256, json_sha256
from titanic.io.atomic import write_json

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
STAGING_PREFIX = ".staging-"
# What versions before output sets staged renders in (they had no owner lock).
LEGACY_STAGING_PREFIX = ".render-"
BACKUP_PREFIX = ".backup-"
JOURNAL = ".publish-journal.json"
FOLDER_LOCK = ".lock"
OWNER_LOCK = ".owner.lock"


def new_run_id() -> str:
    """Return a fresh, unique run id (12 hex digits)."""
    return uuid.uuid4().hex[:12]


def os_error(err: OSError, path: Path | str, doing: str) -> OutputError:
    """Turn an ``OSError`` into one line naming the path, what was being done, and the cause."""
    where = err.filename if err.filename else path
    cause = err.strerror or type(err).__name__
    if err.errno == errno.EXDEV:
        cause += " (a subfolder on another filesystem: renames cannot cross filesystems)"
    return OutputError(f"cannot {doing} {where}: {cause}", path=str(where))


def check_writable_folder(folder: Path) -> Path:
    """Make sure ``folder`` is, or can be made, a folder this process can write into.

    Called before any training or kernel starts, so that a bad output folder fails in a second.
    Nothing is created: a missing folder is checked through its nearest existing parent.

    Raises
    ------
    OutputError
        When a file, a dangling link or an unwritable folder stands in the way.
    """
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            raise OutputError(
                f"{existing} is a dangling symbolic link: remove it or fix its target",
                path=str(existing),
            )
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"{existing} is a file, not a folder: choose another output_dir", path=str(existing)
        )
    if existing == folder:
        _refuse_other_filesystems(folder)
    probe = existing / f".write-check-{new_run_id()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as err:
        cause = err.strerror or type(err).__name__
        raise OutputError(f"cannot write into {existing}: {cause}", path=str(existing)) from err
    return folder


def _refuse_other_filesystems(folder: Path) -> None:
    """Refuse a subfolder mounted from another filesystem: renames cannot cross into it."""
    device = folder.stat().st_dev
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink() and child.stat().st_dev != device:
            raise OutputError(
                f"{child} is on another filesystem than {folder}: outputs are put in place by"
                " renames, which cannot cross filesystems; unmount it or choose another"
                " output_dir",
                path=str(child),
            )


def _hold_lock(path: Path, blocking: bool) -> int | None:
    """Open ``path`` and take an exclusive flock on it; ``None`` when busy (non-blocking)."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(handle)
        return None
    return handle


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's publish lock: one publisher (and stale-staging sweeper) at a time."""
    try:
        handle = _hold_lock(folder / FOLDER_LOCK, blocking=True)
    except OSError as err:
        raise os_error(err, folder / FOLDER_LOCK, "lock") from err
    try:
        yield
    finally:
        assert handle is not None
        os.close(handle)


class Staging:
    """A private staging folder inside ``target``, removed on exit unless :meth:`keep` is called.

    Parameters
    ----------
    target : Path
        The folder the set will be published into (created if missing).
    run_id : str, optional
        This run's id; a fresh one by default.
    """

    def __init__(self, target: Path, run_id: str | None = None):
        self.target = target
        self.run_id = run_id or new_run_id()
        self.path = target / f"{STAGING_PREFIX}{self.run_id}"
        self._lock: int | None = None
        self._kept = False

    def __enter__(self) -> Staging:
        check_writable_folder(self.target)
        try:
            self.target.mkdir(parents=True, exist_ok=True)
            remove_stale(self.target)
            self.path.mkdir()
            self._lock = _hold_lock(self.path / OWNER_LOCK, blocking=True)
        except OSError as err:
            raise os_error(err, self.path, "create the staging folder") from err
        return self

    def keep(self) -> Path:
        """Leave the folder for another process to publish (its lock is released on exit)."""
        self._kept = True
        return self.path

    def __exit__(self, *exc_info: object) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        if not self._kept:
            shutil.rmtree(self.path, ignore_errors=True)


def remove_stale(target: Path) -> list[Path]:
    """Remove staging folders whose process died, and finish or undo an interrupted publish.

    Returns the folders removed.
    """
    removed: list[Path] = []
    if not target.is_dir():
        return removed
    with folder_lock(target):
        _recover(target)
        stagings = [*target.glob(f"{STAGING_PREFIX}*"), *target.glob(f"{LEGACY_STAGING_PREFIX}*")]
        for staging in sorted(stagings):
            lock_file = staging / OWNER_LOCK
            handle = _hold_lock(lock_file, blocking=False) if lock_file.exists() else None
            if lock_file.exists() and handle is None:
                continue  # its owner is alive
            if handle is not None:
                os.close(handle)
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    if removed:
        logger.info("removed %d staging folder(s) left by interrupted runs", len(removed))
    return removed


def _files_of(folder: Path) -> list[str]:
    """Return the relative paths of the visible files under ``folder`` (hidden ones excluded)."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def seal(
    staging: Staging | Path,
    command: str,
    parameters: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    manifest_name: str = MANIFEST,
) -> dict[str, Any]:
    """Write the staging folder's manifest: run id, command, parameters, every file's hash.

    ``manifest_name`` lets two sets share a folder (``titanic predict`` beside ``run``).

    Returns
    -------
    dict
        The manifest written.
    """
    folder = staging.path if isinstance(staging, Staging) else staging
    run_id = (
        staging.run_id
        if isinstance(staging, Staging)
        else folder.name.removeprefix(STAGING_PREFIX)
    )
    files = {
        name: {"sha256": file_sha256(folder / name), "size": (folder / name).stat().st_size}
        for name in _files_of(folder)
        if name != manifest_name
    }
    manifest = {
        "format": MANIFEST_FORMAT,
        "run_id": run_id,
        "command": command,
        "parameters_sha256": json_sha256(parameters),
        "files": files,
        **(extra or {}),
    }
    try:
        write_json(folder / manifest_name, manifest)
    except OSError as err:
        raise os_error(err, folder / manifest_name, "write") from err
    return manifest


def read_manifest(folder: Path, manifest_name: str = MANIFEST) -> dict[str, Any] | None:
    """Return a folder's manifest, or ``None`` when it has none or it is unreadable."""
    try:
        manifest = json.loads((folder / manifest_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def verify(folder: Path) -> str | None:
    """Check every file of a folder's manifest; say what differs (``None``: all as recorded).

    Returns
    -------
    str or None
        ``"no manifest"``, ``"outputs missing: a, b"`` or ``"outputs changed: a"``.
    """
    manifest = read_manifest(folder)
    if manifest is None:
        return "no manifest"
    return check_files(folder, manifest["files"])


def check_files(folder: Path, files: Mapping[str, Any]) -> str | None:
    """Check files under ``folder`` against manifest entries (``{name: {sha256, size}}``).

    Returns
    -------
    str or None
        ``"outputs missing: a, b"``, ``"outputs changed: a"`` or ``None`` when all match.
    """
    missing, changed = [], []
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            missing.append(name)
        elif path.stat().st_size != expected.get("size") or file_sha256(path) != expected.get(
            "sha256"
        ):
            changed.append(name)
    if missing:
        return f"outputs missing: {', '.join(missing)}"
    if changed:
        return f"outputs changed: {', '.join(changed)}"
    return None


@dataclass(frozen=True)
class Published:
    """What :func:`publish` did: the files put in place and the stale ones it removed."""

    folder: Path
    files: tuple[str, ...]
    removed: tuple[str, ...]


def _owned_in(target: Path, owned: Iterable[str]) -> set[str]:
    patterns = tuple(owned)
    return {name for name in _files_of(target) if any(fnmatch.fnmatch(name, p) for p in patterns)}


def publish(
    staging: Staging | Path,
    target: Path,
    owned: Iterable[str] = (),
    manifest_name: str = MANIFEST,
) -> Published:
    """Put a sealed staging folder's set in place in ``target``, replacing the previous set.

    Files of the previous set (its manifest's, and any matching ``owned`` patterns) that the new
    set does not contain are removed, so no stale file poses as part of the new set.

    Raises
    ------
    OutputError
        When a move fails; the previous set is then back as it was.
    """
    source = staging.path if isinstance(staging, Staging) else staging
    manifest = read_manifest(source, manifest_name)
    if manifest is None:
        raise OutputError(f"{source}: no manifest: the set was not sealed", path=str(source))
    new = [*manifest["files"], manifest_name]
    run_id = str(manifest["run_id"])
    with folder_lock(target):
        _recover(target)
        previous = read_manifest(target, manifest_name)
        old = set(previous["files"]) | {manifest_name} if previous else set()
        old |= _owned_in(target, owned)
        replaced = sorted(name for name in old | set(new) if (target / name).exists())
        backup = target / f"{BACKUP_PREFIX}{run_id}"
        moved_in: list[str] = []
        journal: dict[str, Any] = {"run_id": run_id, "backup": backup.name,
                                   "staging": source.name, "replaced": replaced, "new": new,
                                   "moved_in": moved_in}  # fmt: skip
        try:
            write_json(target / JOURNAL, journal)
            for name in replaced:
                (backup / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(target / name, backup / name)
            for name in new:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(source / name, target / name)
                moved_in.append(name)
        except OSError as err:
            _undo(target, journal)
            raise os_error(err, target, "publish the outputs into") from err
        except BaseException:
            _undo(target, journal)
            raise
        (target / JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(backup, ignore_errors=True)
        shutil.rmtree(source, ignore_errors=True)  # emptied; a kept staging has no other owner
        removed = tuple(sorted(set(replaced) - set(new)))
        _remove_empty_folders(target, removed)
    return Published(target, tuple(new), removed)


def _undo(target: Path, journal: Mapping[str, Any]) -> None:
    """Move the new files back out and the backed-up ones back in; best effort, then log."""
    backup = target / str(journal["backup"])
    staging = target / str(journal["staging"])
    for name in reversed(journal.get("moved_in", [])):
        if (target / name).exists():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(target / name, staging / name)
    for name in journal.get("replaced", []):
        if (backup / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup / name, target / name)
    shutil.rmtree(backup, ignore_errors=True)
    (target / JOURNAL).unlink(missing_ok=True)


def _recover(target: Path) -> None:
    """Undo a publish that a dead process left half done (called under the folder lock)."""
    try:
        journal = json.loads((target / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        # The journal itself was cut short: no file had been moved yet.
        (target / JOURNAL).unlink(missing_ok=True)
        return
    logger.warning(
        "undoing an interrupted publish into %s (run %s)", target, journal.get("run_id")
    )
    # Files moved in before the crash are not all listed (the journal is written once), so
    # every new name that is in place and has a backup is moved back.
    journal = {**journal, "moved_in": [n for n in journal.get("new", []) if (target / n).exists()
                                       and not _is_previous(target, journal, n)]}  # fmt: skip
    _undo(target, journal)


def _is_previous(target: Path, journal: Mapping[str, Any], name: str) -> bool:
    """Tell whether ``target/name`` is still the previous set's file (it was not backed up)."""
    backed_up = (target / str(journal["backup"]) / name).exists()
    return name in journal.get("replaced", []) and not backed_up


def _remove_empty_folders(target: Path, removed: Iterable[str]) -> None:
    for name in removed:
        parent = (target / name).parent
        while parent != target and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


class OutputSet:
    """Build one output set and publish it on success: the one way the package writes outputs.

    ``with OutputSet(folder, "run", parameters, owned=...) as output:`` gives a staging folder
    (``output.path``) to write into; leaving the block without an error seals it and publishes
    it into ``folder`` (``output.published`` then says what changed); an error or a signal
    leaves ``folder`` as it was and removes the staging folder.

    Parameters
    ----------
    target : Path
        The folder to publish into.
    command : str
        What produced the set, recorded in the manifest.
    parameters : mapping
        The resolved parameters, whose sha256 the manifest records.
    owned : iterable of str
        Patterns of the names the set replaces (see :func:`publish`).
    manifest_name : str
        The manifest's file name, when two sets share a folder.
    extra : mapping, optional
        More manifest fields (the sweep's cache record).
    """

    def __init__(
        self,
        target: Path,
        command: str,
        parameters: Mapping[str, Any],
        owned: Iterable[str] = (),
        manifest_name: str = MANIFEST,
        extra: Mapping[str, Any] | None = None,
    ):
        self.target = target
        self.command = command
        self.parameters = parameters
        self.owned = tuple(owned)
        self.manifest_name = manifest_name
        self.extra = extra
        self.staging = Staging(target)
        self.published: Published | None = None

    @property
    def path(self) -> Path:
        """The staging folder to write the set into."""
        return self.staging.path

    def __enter__(self) -> OutputSet:
        self.staging.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        try:
            if error is None:
                seal(self.staging, self.command, self.parameters, self.extra, self.manifest_name)
                self.published = publish(self.staging, self.target, self.owned, self.manifest_name)
            elif isinstance(error, OSError):
                raise os_error(error, self.path, "write the outputs into") from error
        finally:
            self.staging.__exit__(kind, error, None)
