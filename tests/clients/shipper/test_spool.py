"""The spool keeps unacknowledged bytes in order, in memory and then in a file."""

from app.clients.shipper import Spool


def test_bytes_come_back_in_order_with_their_offsets():
    spool = Spool(memory_limit=1024)
    spool.append(b"epoch=1; loss=0.5;\n")
    spool.append(b"epoch=2; loss=0.4;\n")
    assert spool.peek(10) == (0, b"epoch=1; l")
    assert spool.peek(100) == (0, b"epoch=1; loss=0.5;\nepoch=2; loss=0.4;\n")
    assert spool.pending() == 38


def test_acknowledged_bytes_are_dropped_and_offsets_go_on():
    spool = Spool(memory_limit=1024)
    spool.append(b"abcdef")
    spool.acknowledge(4)
    assert spool.peek(100) == (4, b"ef")
    spool.append(b"gh")
    assert spool.peek(100) == (4, b"efgh")
    spool.acknowledge(2)  # already acknowledged: nothing changes
    assert spool.peek(100) == (4, b"efgh")
    spool.acknowledge(100)  # beyond the end: everything goes, no further
    assert (spool.pending(), spool.base, spool.total) == (0, 8, 8)


def test_past_the_memory_limit_bytes_spill_to_a_file_and_keep_their_order(tmp_path):
    spool = Spool(memory_limit=8, spill_dir=str(tmp_path))
    spool.append(b"12345")
    spool.append(b"67890")  # would pass 8 bytes: goes to the file
    spool.append(b"ab")  # the file holds bytes: these follow them there
    assert spool.spilled() == 7
    assert spool.peek(100) == (0, b"1234567890ab")
    spool.acknowledge(7)
    assert spool.peek(100) == (7, b"890ab")
    spool.acknowledge(12)
    assert (spool.pending(), spool.spilled()) == (0, 0)
    spool.append(b"cd")  # all sent: memory again
    assert (spool.peek(100), spool.spilled()) == ((12, b"cd"), 0)
    spool.close()


def test_unsent_bytes_can_be_saved(tmp_path):
    spool = Spool(memory_limit=4, spill_dir=str(tmp_path))
    spool.append(b"abc")
    spool.append(b"defg")
    spool.acknowledge(1)
    assert spool.save(str(tmp_path / "unsent.log")) == 6
    assert (tmp_path / "unsent.log").read_bytes() == b"bcdefg"
