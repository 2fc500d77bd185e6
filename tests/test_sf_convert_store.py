"""tests/fixtures/sf_convert.py: a conversion is served from the store only for the same
folder files, options, project files and sf CLI; any change runs sf again. Two workers asking
for the same conversion at once run sf once."""

import json
import threading
from pathlib import Path

from tests.fixtures.sf_convert import COMMAND, remembering


def test_a_kept_conversion_is_served_only_for_the_same_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sfdx-project.json").write_text("{}")
    source = tmp_path / "force-app"
    source.mkdir()
    (source / "a.flow-meta.xml").write_text("one")
    store = tmp_path / "store"
    store.mkdir()
    runs = []

    def sf(command, args=None, **kwargs):  # stands in for sf: its output names the run
        runs.append(command)
        target = Path(args[args.index("-d") + 1])
        target.mkdir(exist_ok=True)
        (target / "package.xml").write_text(f"run {len(runs)}")
        return "result"

    cli = tmp_path / "cli"
    (cli / "bin").mkdir(parents=True)
    (cli / "package.json").write_text(json.dumps({"version": "2.150.6"}))
    convert = remembering(sf, store, sf=lambda: str(cli / "bin" / "run.js"))

    def output(name):
        target = tmp_path / name
        convert(COMMAND, args=["-d", str(target), "-r", "force-app"], check_return=True)
        return (target / "package.xml").read_text()

    assert output("first") == "run 1"
    assert output("again") == "run 1" and len(runs) == 1  # served from the store
    convert(COMMAND, args=["-d", str(tmp_path / "absolute"), "-r", str(source)])
    assert (tmp_path / "absolute" / "package.xml").read_text() == "run 1"  # the same folder
    (source / "a.flow-meta.xml").write_text("two")
    assert output("edited") == "run 2"
    (tmp_path / ".forceignore").write_text("**/a.flow-meta.xml\n")
    assert output("ignored") == "run 3"
    (tmp_path / "sfdx-project.json").write_text('{"sourceApiVersion": "63.0"}')
    assert output("project") == "run 4"
    convert(COMMAND, args=["-d", str(tmp_path / "named"), "-r", "force-app", "-n", "x"])
    assert len(runs) == 5  # other options: sf again
    assert output("last") == "run 4" and len(runs) == 5
    (cli / "package.json").write_text(json.dumps({"version": "2.151.0"}))
    assert output("upgraded") == "run 6"
    assert convert("org display", args=["-d", "x", "-r", "y"]) == "result"
    assert runs[-1] == "org display"  # not a conversion: always sf


def test_a_conversion_asked_for_twice_at_once_runs_sf_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "force-app").mkdir()
    (tmp_path / "force-app" / "a.flow-meta.xml").write_text("one")
    (tmp_path / "store").mkdir()
    runs, inside, second_ran = [], threading.Event(), threading.Event()

    def sf(command, args=None, **kwargs):
        runs.append(command)
        if len(runs) == 1:
            inside.set()
            second_ran.wait(1)  # without the lock the other thread runs sf meanwhile
        else:
            second_ran.set()
        target = Path(args[args.index("-d") + 1])
        target.mkdir(exist_ok=True)
        (target / "package.xml").write_text(f"run {len(runs)}")

    convert = remembering(sf, tmp_path / "store", sf=lambda: None)

    def output(name):
        convert(COMMAND, args=["-d", str(tmp_path / name), "-r", "force-app"])

    first = threading.Thread(target=output, args=("first",))
    first.start()
    inside.wait(5)
    second = threading.Thread(target=output, args=("second",))
    second.start()
    first.join()
    second.join()
    assert len(runs) == 1
    assert (tmp_path / "second" / "package.xml").read_text() == "run 1"
