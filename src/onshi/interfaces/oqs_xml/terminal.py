"""The eligibility terminal (資格確認端末) as レセコン see it: folders of XML files.

    PATH/req/   the client writes requests here (OQSsiquc01req_<id>.xml, …)
    PATH/res/   the terminal answers under the matching name (OQSsiquc01res_<id>.xml)
    PATH/face/  results of card verifications at the reader, written unasked

A small polling loop, no extra dependency:
- only files whose name is a request's are touched (`codes.REQUEST_NAME`); others stay;
- a file modified less than `settle` seconds ago is left for the next round (still being
  written); a file that does not parse as complete XML (or not in its declared encoding)
  is tried once more on a later round, and only answered with an error if it is unchanged
  and still broken — real clients write then rename, this covers those that do not;
- every answer is written atomically (a dot-named temporary file in the same folder, then
  rename), so a client never reads half a file;
- the request is deleted once its answer is in place, so nothing is answered twice. If the
  terminal stops between the two, the request is answered again on restart (harmless:
  lookups are reads; registrations are idempotent).
- bulk requests are answered at once with a 受付番号 (処理中) and processed by a worker
  thread; their state is in the database, so a restart resumes them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path

from ... import config
from ...registry.lookup import LookupResult
from . import codec, codes
from .service import OqsService, answer_name

log = logging.getLogger("onshi.terminal")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either nothing or the whole file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Terminal:
    def __init__(self, service: OqsService, root: Path | str, facility_code: str, *, settle: float = 0.1, interval: float = 0.2):
        self.service = service
        self.root = Path(root)
        self.facility_code = facility_code
        self.settle = settle
        self.interval = interval
        self.req, self.res, self.face = self.root / "req", self.root / "res", self.root / "face"
        for d in (self.req, self.res, self.face):
            d.mkdir(parents=True, exist_ok=True)
        self._broken: dict[str, tuple[int, int]] = {}  # request name → (mtime_ns, size) when it first failed to parse
        self._bulk_wake = threading.Event()
        self.answered = 0

    # ------------------------------------------------------------ requests

    def _requests(self) -> list[tuple[int, str, Path, os.stat_result]]:
        found = []
        try:
            entries = list(os.scandir(self.req))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith(".") or answer_name(entry.name) is None:
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished meanwhile
            found.append((st.st_mtime_ns, entry.name, Path(entry.path), st))
        return sorted(found)

    def process_file(self, path: Path, st: os.stat_result | None = None) -> str:
        """Answer one request file: 'answered', 'waiting' (too fresh, or broken once), or 'gone'."""
        try:
            st = st or path.stat()
        except FileNotFoundError:
            return "gone"
        if time.time() - st.st_mtime < self.settle:
            return "waiting"
        name = path.name
        answer_file = self.res / answer_name(name)
        prefix = codes.canonical_prefix(codes.REQUEST_NAME.match(name).group("prefix"))
        try:
            with open(path, "rb") as f:
                data = f.read(codes.MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return "gone"
        except OSError as exc:
            log.warning("%s: cannot be read (%s); trying again later", name, exc)
            return "waiting"
        try:
            answer = self.service.answer(prefix, data, self.facility_code)
        except Exception:  # noqa: BLE001 - the client must get an answer whatever failed here
            log.exception("%s: failed", name)
            error = codec.XmlError(codes.ERROR_INTERNAL)
            answer = None
            body = self.service.error_file(None, self.service.output_encoding(None), error, self.facility_code)
        else:
            body = answer.body
            if answer.error in (codes.ERROR_MALFORMED, codes.ERROR_ENCODING):
                seen = (st.st_mtime_ns, st.st_size)
                if self._broken.get(name) != seen:  # first failure of this version of the file: retry once
                    self._broken[name] = seen
                    return "waiting"
        self._broken.pop(name, None)
        write_atomically(answer_file, body)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        self.answered += 1
        log.info("%s → res/%s%s", name, answer_file.name, f" ({answer.error})" if answer and answer.error else "")
        if answer is not None and answer.queued:
            self._bulk_wake.set()
        return "answered"

    def process_requests(self) -> tuple[int, int]:
        """One pass over req/: (answered, waiting)."""
        answered = waiting = 0
        for _mtime, _name, path, st in self._requests():
            outcome = self.process_file(path, st)
            answered += outcome == "answered"
            waiting += outcome == "waiting"
        return answered, waiting

    # ------------------------------------------------------------ card verification

    def read_card(self, serial: str, *, identity: str = "face", limit_consent: bool = False, method: str = "my_number_card") -> tuple[LookupResult, Path]:
        """A card at the reader: verify (logged), and write face/OQSsiquc01res_face_<key>_<time>.xml."""
        result, body = self.service.card_verification(self.facility_code, serial, identity=identity, limit_consent=limit_consent, method=method)
        return result, self._write_face(body)

    def write_face(self, result: LookupResult) -> Path:
        """The face/ file for a card lookup made elsewhere (the reception page)."""
        return self._write_face(self.service.face_file(self.facility_code, result))

    def _write_face(self, body: bytes) -> Path:
        stamp = config.now().astimezone(config.JST).strftime(codes.TIMESTAMP)
        path = self.face / f"{codes.FACE_PREFIX}_{uuid.uuid4().hex[:12]}_{stamp}.xml"
        write_atomically(path, body)
        return path

    # ------------------------------------------------------------ loops

    def run_once(self, *, max_rounds: int = 50) -> int:
        """Answer everything present (bulk requests included), then return the count."""
        before = self.answered
        for _ in range(max_rounds):
            _answered, waiting = self.process_requests()
            processed = self.service.process_pending()
            if not waiting and not processed and not any(True for _ in self._requests()):
                break
            if waiting:
                time.sleep(self.settle)
        return self.answered - before

    def _bulk_worker(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._bulk_wake.wait(1.0)  # also polls: another process (HTTP) may have stored bulk requests
            self._bulk_wake.clear()
            if stop.is_set():
                break
            try:
                self.service.process_pending()
            except Exception:  # noqa: BLE001 - e.g. the database is away; try again on the next round
                log.exception("bulk processing failed")

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set (Ctrl-C in the CLI, a test's event)."""
        worker = threading.Thread(target=self._bulk_worker, args=(stop,), name="bulk-worker", daemon=True)
        worker.start()
        self._bulk_wake.set()  # resume what a previous run left
        try:
            while not stop.is_set():
                try:
                    self.process_requests()
                except Exception:  # noqa: BLE001 - keep watching whatever one pass met
                    log.exception("terminal pass failed")
                stop.wait(self.interval)
        finally:
            stop.set()
            self._bulk_wake.set()
            worker.join(timeout=30)
            self.service.registry.log.flush()
