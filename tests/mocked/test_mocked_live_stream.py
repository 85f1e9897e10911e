"""The add-on's live receiver: a real UDP socket; malformed and out-of-order datagrams are dropped and counted,
the newest frame wins, and a recording keeps every accepted frame in order."""

from __future__ import annotations

import socket
import time

import numpy as np

from conftest import import_ext as ext

protocol = ext("core.live.protocol")
LiveReceiver = ext("blender_mocap.live_stream").LiveReceiver


def message(seq: int, captured: float) -> bytes:
    return protocol.pack(protocol.LiveFrame(
        seq=seq, frame=seq, frame_time=seq / 30, captured=captured, sent=captured, confidence=1.0,
        camera_height=1.5, flags=0, trans=np.zeros(3, np.float32),
        poses=np.full(165, seq, np.float32), expression=np.zeros(0, np.float32)))


def wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_bad_and_late_datagrams_are_dropped_and_counted_never_raised() -> None:
    receiver = LiveReceiver().start()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    now = time.time()
    good = message(5, now - 0.05)
    datagrams = [message(3, now), b"", b"hello", good[:-4], good[:4] + b"\x07\x00" + good[6:], message(4, now),
                 good, message(5, now), message(2, now), message(6, now - 0.04)]
    try:
        for data in datagrams:
            sender.sendto(data, ("127.0.0.1", receiver.port))
            time.sleep(0.002)  # loopback keeps the order; the pause keeps the socket's buffer small
        wait(lambda: receiver.received + receiver.malformed + receiver.out_of_order == len(datagrams))
        assert (receiver.received, receiver.malformed, receiver.out_of_order) == (4, 4, 2)
        newest = receiver.take_newest()
        assert newest is not None and newest.seq == 6
        assert receiver.take_newest() is None  # nothing new since
        fps, latency = receiver.figures()
        assert 0.0 < latency < 1000.0  # glass to receive: about 40 ms here plus the loop's time
    finally:
        sender.close()
        receiver.close()
        receiver.close()  # twice is safe


def test_a_recording_keeps_every_accepted_frame_in_order() -> None:
    receiver = LiveReceiver()  # no thread: frames handed in directly
    try:
        receiver.handle(message(0, 1.0), 1.1)
        receiver.start_recording()
        for seq in (1, 2, 2, 4, 3, 7):
            receiver.handle(message(seq, 1.0), 1.1)
        receiver.handle(b"\x00" * 64, 1.2)
        assert receiver.recorded_count() == 4
        frames = receiver.stop_recording()
        assert [f.seq for f in frames] == [1, 2, 4, 7]
        assert not receiver.recording and receiver.stop_recording() == []
        assert receiver.out_of_order == 2 and receiver.malformed == 1
    finally:
        receiver.close()
