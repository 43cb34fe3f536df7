import json

from tools.compare_claims import differences, main


def _folder(path, claims):
    path.mkdir()
    (path / "claims.json").write_text(json.dumps({"run": None, "claims": claims}))
    return path


def test_compare_claims_ignores_only_timing_and_sees_any_other_field(tmp_path, capsys):
    c = {"id": "C1", "effect": 0.25, "recorded": 1.0, "details": {"median_seconds_x": 2.0, "ci": [0.1, 0.4]}}
    a = _folder(tmp_path / "a", [c])
    same = _folder(tmp_path / "same", [{**c, "recorded": 9.0, "details": {**c["details"], "median_seconds_x": 5.0}}])
    other = _folder(tmp_path / "other", [{**c, "details": {**c["details"], "ci": [0.1, 0.4000001]}}])
    assert main([str(a), str(same)]) == 0 and "C1: identical" in capsys.readouterr().out
    assert main([str(a), str(other)]) == 1 and "C1.details.ci[1]" in capsys.readouterr().out
    assert differences({"x": 1}, {"y": 1}) == [(".x", 1, "<missing>"), (".y", "<missing>", 1)]
