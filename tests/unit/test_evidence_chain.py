from pathlib import Path

import pytest

from aggregator.browser import CapturedPage
from aggregator.evidence import EvidenceRecorder, SnapshotFiles, sha256_hex, verify_chain
from aggregator.store import Repository
from aggregator.store.tables import EvidenceRow


def page(n: int) -> CapturedPage:
    return CapturedPage(url=f"http://127.0.0.1/p{n}", html=f"<html>{n}</html>", screenshot_png=b"\x89PNG" + bytes([n]),
                        carrier="ridgeline", account_label="main", flow="eligibility", label="benefits")


@pytest.fixture
def recorder(tmp_path: Path) -> EvidenceRecorder:
    repo = Repository.open(f"sqlite:///{tmp_path / 'a.db'}")
    return EvidenceRecorder(SnapshotFiles(tmp_path / "snapshots"), repo)


def test_capture_is_content_addressed_and_chained(recorder):
    ids = [recorder.record(page(n), None) for n in (1, 2, 1)]
    rows = [recorder.repository.evidence(i) for i in ids]
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[1].prev_hash == rows[0].entry_hash and rows[2].prev_hash == rows[1].entry_hash
    assert rows[0].screenshot_path == rows[2].screenshot_path  # same bytes stored once
    stored = recorder.files.path(rows[0].screenshot_path).read_bytes()
    assert sha256_hex(stored) == rows[0].screenshot_sha256 and rows[0].screenshot_path.endswith(rows[0].screenshot_sha256 + ".png")
    assert verify_chain(recorder.repository, recorder.files) == (3, [])


def test_altered_file_is_detected(recorder):
    ids = [recorder.record(page(n), None) for n in (1, 2)]
    row = recorder.repository.evidence(ids[1])
    recorder.files.path(row.html_path).write_text("<html>edited</html>")
    checked, problems = verify_chain(recorder.repository, recorder.files)
    assert checked == 2 and [(p.seq, p.problem.split(":")[0]) for p in problems] == [(2, "html file altered")]


def test_altered_metadata_and_deleted_entry_are_detected(recorder):
    ids = [recorder.record(page(n), None) for n in (1, 2, 3)]
    with recorder.repository.session() as s:
        row = s.get(EvidenceRow, ids[0])
        row.url = "http://127.0.0.1/somewhere-else"
        s.add(row)
        s.delete(s.get(EvidenceRow, ids[1]))
        s.commit()
    _, problems = verify_chain(recorder.repository, recorder.files)
    kinds = {(p.seq, p.problem.split(":")[0]) for p in problems}
    assert (1, "entry altered") in kinds
    assert (3, "sequence gap") in kinds and (3, "link broken") in kinds


def test_missing_file_is_detected(recorder):
    evidence_id = recorder.record(page(1), None)
    recorder.files.path(recorder.repository.evidence(evidence_id).screenshot_path).unlink()
    _, problems = verify_chain(recorder.repository, recorder.files)
    assert [p.problem.split(":")[0] for p in problems] == ["screenshot file missing"]


def test_concurrent_appends_on_sqlite_keep_one_chain(recorder):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda n: recorder.record(page(n % 200), None), range(60)))
    assert len(set(ids)) == 60
    assert verify_chain(recorder.repository, recorder.files) == (60, [])
