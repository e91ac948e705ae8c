"""The one bounded reader (issue 9, "Files"): what is not a regular file is
one clear error naming it, sizes are counted by bytes read (never by what the
file system reports), and a FIFO never blocks for ever."""
from __future__ import annotations

import os
import threading

import pytest

from ipam_model.core import input_file
from ipam_model.core.errors import InputError
from ipam_model.core.input_file import printable_path, read_input
from ipam_model.core.limits import Limit

SMALL = Limit("test input", 16, "bytes", "test")


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    assert read_input(path, limit=SMALL) == b"0123456789"


def test_size_is_counted_by_bytes_read_not_st_size(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 17)
    with pytest.raises(InputError, match="is larger than 16 bytes"):
        read_input(path, limit=SMALL)
    # a device reports size 0 and never ends: the bound still holds
    with pytest.raises(InputError, match="is a device, not a file"):
        read_input("/dev/zero", limit=SMALL)


@pytest.mark.parametrize("make,words", [
    (lambda p: p.mkdir(), "is a directory, not a file"),
    (lambda p: os.symlink(p.parent / "gone", p), "is a symbolic link to .*gone, which does not exist"),
    (lambda p: os.mkfifo(p), r"is a named pipe \(FIFO\), not a file"),
    (lambda p: None, "no such file"),
])
def test_what_is_not_a_regular_file_is_named(tmp_path, make, words):
    path = tmp_path / "Pulumi.x.yaml"
    make(path)
    with pytest.raises(InputError, match=words) as err:
        read_input(path, limit=SMALL)
    assert err.value.location.file == str(path)


def test_a_fifo_without_a_writer_gives_up_instead_of_blocking(tmp_path, monkeypatch):
    monkeypatch.setattr(input_file, "PIPE_IDLE", Limit("idle", 0.2, "seconds", "test"))
    fifo = tmp_path / "snap"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="the pipe sent nothing for 0.2 seconds"):
        read_input(fifo, limit=SMALL, pipe=True)


def test_a_pipe_is_read_when_the_input_may_be_one(tmp_path):
    fifo = tmp_path / "snap"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as fh:
            fh.write(b"{}")

    thread = threading.Thread(target=writer)
    thread.start()
    assert read_input(fifo, limit=SMALL, pipe=True) == b"{}"
    thread.join(5)


def test_names_that_are_not_utf8_are_printable():
    name = os.fsdecode(b"Pulumi.\xff.yaml")
    assert printable_path(name) == "Pulumi.\\xff.yaml"
    printable_path(name).encode("utf-8")  # no lone surrogate left
