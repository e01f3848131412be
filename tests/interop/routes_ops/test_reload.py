"""Hot reload while traffic flows, on the embedded core alone.

Two routes: `moving` (core queue A -> core queue B) and `steady` (A2 -> B2). pika publishes
numbered, confirmed messages to A and A2 the whole time and a pika consumer reads B, C and B2.
The file is changed under the running process: `moving`'s target becomes C (written in place),
then B again (written beside and renamed over), then a broken file (refused, logged with
file:line:column, the old routes keep moving messages), then a fixed one. Through all of it
the process is the same one, `steady` is never restarted and keeps moving messages, and no
confirmed message is lost: every id published to A arrives in B or C, every id published to
A2 in B2 (repeats, which at-least-once allows around a restart, are counted and printed).

The second test does the same through SIGHUP alone: the config path is a symlink into
another directory (as a Kubernetes ConfigMap mounts it), so editing the file it points at
changes nothing until SIGHUP; swapping the symlink is then seen by the watcher.
"""

import collections
import os
import time
import uuid

import pytest

import ops_lib as ol

RATE = 300  # messages per second, both queues together


def names():
    t = uuid.uuid4().hex[:8]
    return {k: f"reload.{t}.{k}" for k in ("A", "B", "C", "A2", "B2")}


def config(q, target, broken=False):
    """The config text; `target` is the key of moving's target queue. `broken` puts a
    template error in moving's target (line 14, column 18)."""
    to = '"{hedaer.region}"' if broken else q[target]
    return f"""\
# routes_ops hot-reload test
listeners:
  amqp: {{ bind: "127.0.0.1:0" }}
topology:
  queues:
    - {{ name: {q['A']} }}
    - {{ name: {q['B']} }}
    - {{ name: {q['C']} }}
    - {{ name: {q['A2']} }}
    - {{ name: {q['B2']} }}
routes:
  - name: moving
    from: {{ queue: {q['A']} }}
    to: {{ queue: {to} }}
  - name: steady
    from: {{ queue: {q['A2']} }}
    to: {{ queue: {q['B2']} }}
"""


class Traffic:
    def __init__(self, bridge, q):
        self.bridge = bridge
        self.q = q
        self.consumer = ol.Consumer(bridge.amqp_url, [q["B"], q["C"], q["B2"]])
        self.consumer.start()
        assert self.consumer.ready.wait(15), "the consumer did not start"
        if self.consumer.error:
            raise AssertionError(f"the consumer failed: {self.consumer.error!r}")
        self.publisher = ol.Publisher(bridge.amqp_url, [q["A"], q["A2"]], rate=RATE)
        self.publisher.start()

    def count(self, key):
        return self.consumer.count(self.q[key])

    def wait_growth(self, key, by=30, timeout=20):
        """Wait until `key` received `by` more messages than now."""
        start = self.count(key)
        ol.wait_until(
            f"{by} more messages in {key} (had {start})",
            lambda: self.count(key) >= start + by,
            timeout,
            log=self.bridge.tail,
        )

    def assert_quiet(self, key, seconds=1.0):
        """`key` gets nothing more (its route now writes elsewhere)."""
        before = self.count(key)
        time.sleep(seconds)
        assert self.count(key) == before, f"{key} still receives messages ({before} -> {self.count(key)})"

    def finish(self):
        """Stop publishing; wait until every confirmed id arrived; return the repeats."""
        self.publisher.stop()
        sent_a = set(self.publisher.confirmed[self.q["A"]])
        sent_a2 = set(self.publisher.confirmed[self.q["A2"]])

        def all_in():
            return sent_a <= set(self.consumer.ids(self.q["B"], self.q["C"])) and sent_a2 <= set(
                self.consumer.ids(self.q["B2"])
            )

        try:
            ol.wait_until("every confirmed message in B, C or B2", all_in, 30, 0.2)
        finally:
            self.consumer.stop()
        got_a = self.consumer.ids(self.q["B"], self.q["C"])
        got_a2 = self.consumer.ids(self.q["B2"])
        missing = sorted(sent_a - set(got_a)) + sorted(sent_a2 - set(got_a2))
        assert missing == [], f"lost {len(missing)} message(s): {missing[:20]}"
        unexpected = (set(got_a) - sent_a) | (set(got_a2) - sent_a2)
        assert not unexpected, f"ids never published: {sorted(unexpected)[:20]}"
        repeats = sum(c - 1 for c in collections.Counter(got_a + got_a2).values() if c > 1)
        print(
            f"\nROUTES_OPS reload: {len(sent_a)} + {len(sent_a2)} messages, 0 lost, {repeats} repeated, "
            f"B={self.count('B')} C={self.count('C')} B2={self.count('B2')}",
            flush=True,
        )
        return repeats


def assert_reload(line, restarted):
    assert ol.route_names(line, "restarted") == restarted, line
    assert ol.route_names(line, "unchanged") == ["steady"], line
    assert ol.route_names(line, "started") == [], line
    assert ol.route_names(line, "stopped") == [], line


def assert_one_process(bridge, pid):
    bridge.assert_alive()
    assert bridge.pid == pid
    assert bridge.count(r"starting mqbridge") == 1, "the bridge started more than once"
    # `steady` started once and never stopped.
    assert bridge.count(r"route starting route=steady") == 1, bridge.tail()
    assert bridge.count(r"route stopped route=steady") == 0, bridge.tail()


def test_reload_on_file_change_while_traffic_flows(tmp_path, bridges):
    q = names()
    path = tmp_path / "mqbridge.yaml"
    path.write_text(config(q, "B"), encoding="utf-8")
    bridge = bridges(path)
    pid = bridge.pid
    traffic = Traffic(bridge, q)
    try:
        traffic.wait_growth("B")
        traffic.wait_growth("B2")

        # 1. In place (same inode): moving now writes to C.
        ol.write_in_place(path, config(q, "C"))
        assert_reload(bridge.wait_reloads(1), ["moving"])
        traffic.wait_growth("C")
        traffic.assert_quiet("B")
        traffic.wait_growth("B2")
        assert_one_process(bridge, pid)

        # 2. A new file renamed over the old one: back to B.
        ol.write_by_rename(path, config(q, "B"))
        assert_reload(bridge.wait_reloads(2), ["moving"])
        traffic.wait_growth("B")
        traffic.assert_quiet("C")
        traffic.wait_growth("B2")

        # 3. A broken file: refused with file:line:column, the running routes stay.
        ol.write_in_place(path, config(q, "B", broken=True))
        refusal = bridge.wait_refusals(1)
        assert f"{path}:14:18: routes.moving.to.queue: unknown field 'hedaer.region'" in refusal, refusal
        traffic.wait_growth("B")
        traffic.wait_growth("B2")
        assert len(bridge.reloads()) == 2

        # 4. Fixed (to C), by rename: applied.
        ol.write_by_rename(path, config(q, "C"))
        assert_reload(bridge.wait_reloads(3), ["moving"])
        traffic.wait_growth("C")
        traffic.assert_quiet("B")

        # 5. SIGHUP with the same file: reloaded, nothing restarted.
        bridge.hup()
        line = bridge.wait_reloads(4)
        assert ol.route_names(line, "restarted") == [], line
        assert sorted(ol.route_names(line, "unchanged")) == ["moving", "steady"], line
        assert bridge.count(r'reloading the config trigger="?SIGHUP') == 1, bridge.tail()
        traffic.wait_growth("C")
        traffic.wait_growth("B2")
        assert_one_process(bridge, pid)
    finally:
        traffic.finish()
    assert bridge.stop() == 0


def test_a_symlinked_config_is_followed(tmp_path, bridges):
    """A config path that is a symlink into another directory (how Kubernetes mounts a
    ConfigMap): edits of the file it points at are applied, a broken edit is refused, SIGHUP
    reloads, and swapping the symlink itself is applied."""
    q = names()
    data = tmp_path / "data"
    data.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    v1 = data / "v1.yaml"
    v1.write_text(config(q, "B"), encoding="utf-8")
    path = run / "mqbridge.yaml"
    path.symlink_to(v1)
    bridge = bridges(path)
    pid = bridge.pid
    traffic = Traffic(bridge, q)
    try:
        traffic.wait_growth("B")

        # Edit the target file: applied.
        ol.write_in_place(v1, config(q, "C"))
        assert_reload(bridge.wait_reloads(1), ["moving"])
        traffic.wait_growth("C")
        traffic.assert_quiet("B")

        # Broken: refused; the routes stay.
        ol.write_in_place(v1, config(q, "C", broken=True))
        refusal = bridge.wait_refusals(1)
        assert f"{path}:14:18: routes.moving.to.queue: unknown field 'hedaer.region'" in refusal, refusal
        traffic.wait_growth("C")
        traffic.wait_growth("B2")

        # Fixed (back to B): applied.
        ol.write_in_place(v1, config(q, "B"))
        assert_reload(bridge.wait_reloads(2), ["moving"])
        traffic.wait_growth("B")
        traffic.assert_quiet("C")

        # SIGHUP with the same file: reloaded, nothing restarted.
        bridge.hup()
        line = bridge.wait_reloads(3)
        assert ol.route_names(line, "restarted") == [], line
        assert sorted(ol.route_names(line, "unchanged")) == ["moving", "steady"], line

        # The ConfigMap update: a new file, a new symlink renamed over the old one.
        v2 = data / "v2.yaml"
        v2.write_text(config(q, "C"), encoding="utf-8")
        tmp_link = run / ".mqbridge.yaml.new"
        tmp_link.symlink_to(v2)
        os.replace(tmp_link, path)
        assert_reload(bridge.wait_reloads(4), ["moving"])
        traffic.wait_growth("C")
        assert_one_process(bridge, pid)
        assert bridge.count(r'reloading the config trigger="?SIGHUP') == 1
    finally:
        traffic.finish()
    assert bridge.stop() == 0


def test_a_truncated_file_is_not_applied(tmp_path, bridges):
    """A file written in place is empty for a moment (truncate, then write). When the write
    comes later than the watcher's debounce, the reload reads the empty file. An empty file is
    a valid config (no listeners, no routes), so today it is applied: every route stops, then
    starts again when the content lands. The routes should rather keep running (an empty
    file is refused on reload, as a half-written one)."""
    q = names()
    path = tmp_path / "mqbridge.yaml"
    path.write_text(config(q, "B"), encoding="utf-8")
    bridge = bridges(path)
    traffic = Traffic(bridge, q)
    try:
        traffic.wait_growth("B")
        with open(path, "r+", encoding="utf-8") as f:
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
            time.sleep(1.0)  # longer than the watcher's 300 ms debounce
            f.write(config(q, "B"))
        # Give the watcher time to see both changes.
        time.sleep(1.5)
        traffic.wait_growth("B")
        traffic.wait_growth("B2")
        stopped = [name for line in bridge.reloads() for name in ol.route_names(line, "stopped")]
        assert stopped == [], f"routes stopped by a half-written file: {stopped}\n{bridge.tail(30)}"
    finally:
        traffic.finish()


def test_kubernetes_configmap_update_is_seen(tmp_path, bridges):
    """The layout kubelet gives a mounted ConfigMap: DIR/mqbridge.yaml -> ..data/mqbridge.yaml,
    DIR/..data -> ..TIMESTAMP/. An update writes a new ..TIMESTAMP2/, points a new ..data_tmp
    symlink at it and renames ..data_tmp over ..data; mqbridge.yaml itself never changes.
    The module doc of src/reload.rs says the watcher catches this update."""
    q = names()
    mount = tmp_path / "config"
    mount.mkdir()
    v1 = mount / "..2026_11_24_00_00_00.000000001"
    v1.mkdir()
    (v1 / "mqbridge.yaml").write_text(config(q, "B"), encoding="utf-8")
    (mount / "..data").symlink_to(v1.name)
    path = mount / "mqbridge.yaml"
    path.symlink_to("..data/mqbridge.yaml")
    bridge = bridges(path)
    traffic = Traffic(bridge, q)
    try:
        traffic.wait_growth("B")
        v2 = mount / "..2026_11_24_00_01_00.000000002"
        v2.mkdir()
        (v2 / "mqbridge.yaml").write_text(config(q, "C"), encoding="utf-8")
        (mount / "..data_tmp").symlink_to(v2.name)
        os.replace(mount / "..data_tmp", mount / "..data")
        assert path.read_text(encoding="utf-8") == config(q, "C")
        assert_reload(bridge.wait_reloads(1, timeout=5), ["moving"])
        traffic.wait_growth("C")
    finally:
        traffic.finish()


def test_a_topology_conflict_is_refused(tmp_path, bridges):
    """A file that passes the check but whose topology the running broker refuses (a queue
    redeclared with other arguments) is refused as a whole: the routes stay as they were."""
    q = names()
    path = tmp_path / "mqbridge.yaml"
    path.write_text(config(q, "B"), encoding="utf-8")
    bridge = bridges(path)
    traffic = Traffic(bridge, q)
    try:
        traffic.wait_growth("B")
        conflicting = config(q, "C").replace(
            f"- {{ name: {q['C']} }}", f"- {{ name: {q['C']}, arguments: {{ x-max-length: 10 }} }}"
        )
        assert conflicting != config(q, "C")
        ol.write_in_place(path, conflicting)
        refusal = bridge.wait_refusals(1)
        assert f"topology: queue '{q['C']}'" in refusal, refusal
        assert bridge.reloads() == []
        traffic.wait_growth("B")
        traffic.assert_quiet("C")
    finally:
        traffic.finish()
