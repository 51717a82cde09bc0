"""manifest.json: what explain re-loads (inputs by kind, config), digests, counts, rule runs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from cardcheck.example import example_run
from cardcheck.outputs.write import write_outputs
from cardcheck.pipeline.options import Timer
from cardcheck.progress import Progress


def test_manifest(tmp_path: Path) -> None:
    files = {}
    for name, text in (("roll.csv", "姓名,身份证号\n"), ("acc.csv", "卡号,户名\n"),
                       ("pay.csv", "账号,金额\n"), ("deaths.csv", "姓名\n")):
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")
    run = example_run(tmp_path / "out", quiet=True)
    run.options = dataclasses.replace(
        run.options, roll=files["roll.csv"], accounts=files["acc.csv"],
        payments=[files["pay.csv"]], refs=[f"deaths={files['deaths.csv']}"],
        spark_conf=["spark.hadoop.fs.s3a.secret.key=abc123", "spark.executor.memory=4g"])
    write_outputs(run, Timer(), Progress(quiet=True))
    m = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert m["inputs"] == {"roll": [str(files["roll.csv"])], "accounts": [str(files["acc.csv"])],
                           "payments": [str(files["pay.csv"])],
                           "deaths": [str(files["deaths.csv"])]}
    assert m["config"] is None and m["config_digest"] == run.config.digest
    pay = m["input_files"]["payments"][0]
    assert pay["size"] == len("账号,金额\n".encode())
    assert pay["sha256"] == hashlib.sha256("账号,金额\n".encode()).hexdigest()
    assert m["options"]["spark_conf"] == ["spark.hadoop.fs.s3a.secret.key=***",
                                          "spark.executor.memory=4g"]
    assert "abc123" not in json.dumps(m)
    assert m["options"]["stage"] == "自查自纠" and m["version"]
    assert m["counts"][0]["file"] == "名册.csv" and m["counts"][0]["skipped_reasons"] == {
        "total (合计)": 1}
    c04 = next(r for r in m["rules"] if r["code"] == "C04")
    assert (c04["status"], c04["count"], c04["amount"]) == ("ran", 2, 360000)
    assert m["findings"] == 7 and m["amount"] == 910000 and m["ledger_run"] == 1
    assert set(m["outputs"]) == {"findings", "rejects", "ledger", "workbook", "cards",
                                 "manifest"}
    assert Path(m["outputs"]["workbook"]).is_file()
    assert m["outputs"]["cards"] == str(tmp_path / "out" / "表2_全部卡片.csv")
