"""The GT06 decoder (tagwatch.ingest.gt06) on captured frames.

Unless a test says otherwise, the frames are the hex captures published as test data in
Traccar's ``src/test/java/org/traccar/protocol/Gt06ProtocolDecoderTest.java`` (traccar/traccar,
Apache-2.0); only the frames are used, as data. The expected values were worked out by hand from
the protocol layout and, where Traccar's test asserts one (the 0x12 position, the removing
alarm), they agree with it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from tagwatch.ingest.fixes import validate_record
from tagwatch.ingest.gt06 import (Framer, FrameError, Location, Login, Other, StatusMessage, TimeRequest, ack,
                                  crc16_x25, decode, encode_frame, time_reply, to_record)

LOGIN = "78780D01086471700328358100093F040D0A"
LOGIN_TZ = "787811010864717003664467100f190a0002c6d20d0a"  # long login, timezone word 0x190A
HEARTBEAT = "78780a13c40604000201298f5b0d0a"
GPS_10 = "787819100B031A0B1B31CC027AC7FD0C4657BF0115210001001CC6070D0A"  # 2 extra bytes before the serial
GPS_10_SW = "787819100e010903230ec803ae32a60653cded00180000020072feb70d0a"  # south and west
GPS_LBS_12 = "78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a"
GPS_LBS_22 = "787822220F0C1D023305C9027AC8180C46586000140001CC00287D001F71000001000820860D0A"
GPS_LBS_22_NOFIX = "787822221106160a1016c60278019407c7783800040001940504700046fc01030100065f570d0a"
STATUS_16_REMOVING = "7878251613020C12141AC5027951430C2A16F60014000900000000001A00007C550300020002F1E70D0A"
STATUS_16_POWER_CUT = "7878251610051b0f1c34c5022515d504b5dcd20738080902d4022bdf009cba5006640201006759680d0a"
STATUS_26_NOFIX = "7878252612030C063816C3026C10540C38C9700144030901CC002866000EEE0C06040302000DA2DB0D0A"
TIME_REQ = "7878058A000688290D0A"
EMPTY_12 = "787805120099abec0d0a"  # a 0x12 with no content
BAD_CRC = ["787811010123456789012345100B3201000171930D0A",
           "78781F120B081D112E10CC027AC7EB0C46584900148F01CC00287D001FB8000380810D0A"]
RECEIVED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def one(hexframe: str):
    frames = Framer().feed(bytes.fromhex(hexframe))
    assert len(frames) == 1
    return decode(frames[0])


def test_crc16_x25_check_value_and_a_real_frame():
    assert crc16_x25(b"123456789") == 0x906E
    frame = bytes.fromhex(LOGIN)
    assert crc16_x25(frame[2:-4]) == int.from_bytes(frame[-4:-2], "big")


def test_login_gives_the_imei_and_the_ack_is_byte_exact():
    msg = one(LOGIN)
    assert msg == Login(serial=9, imei="864717003283581", tz_minutes=None)
    # the ack the protocol notes quote for serial 9, and our encoder's CRC
    assert ack(0x01, msg.serial) == bytes.fromhex("787805010009" "5594" "0d0a")


def test_long_login_carries_the_timezone():
    msg = one(LOGIN_TZ)
    assert (msg.imei, msg.serial, msg.tz_minutes) == ("864717003664467", 2, -240)  # 0x190A: UTC-04:00
    assert ack(0x01, 2) == bytes.fromhex("787805010002" "eb47" "0d0a")


def test_heartbeat_status_battery_and_ack():
    msg = one(HEARTBEAT)
    assert isinstance(msg, StatusMessage) and msg.serial == 0x0129
    assert msg.status.battery_pct == 100 and msg.status.charging and msg.status.alarms == frozenset()
    assert ack(0x13, 0x0129) == bytes.fromhex("787805130129" "5d63" "0d0a")
    rec = to_record(msg, "864717003283581", RECEIVED)
    assert rec["ts"] == RECEIVED.isoformat() and rec["lat"] is None and rec["battery_pct"] == 100


def test_gps_0x10_with_extra_bytes():
    msg = one(GPS_10)
    assert isinstance(msg, Location) and msg.serial == 0x001C and msg.valid
    assert msg.fix_time == datetime(2011, 3, 26, 11, 27, 49, tzinfo=UTC)
    assert msg.lat == pytest.approx(23.1116783) and msg.lon == pytest.approx(114.4092083)
    assert (msg.satellites, msg.speed_kmh, msg.course) == (12, 1, 289)


def test_hemisphere_bits_south_and_west():
    msg = one(GPS_10_SW)
    assert msg.lat == pytest.approx(-34.3043767) and msg.lon == pytest.approx(-58.9752783)


def test_gps_lbs_0x12_matches_traccars_asserted_position():
    msg = one(GPS_LBS_12)  # Traccar asserts 2015-10-20 14:21:11, valid, 54.94535, 24.01762
    assert msg.fix_time == datetime(2015, 10, 20, 14, 21, 11, tzinfo=UTC) and msg.valid
    assert msg.lat == pytest.approx(54.94535, abs=1e-5) and msg.lon == pytest.approx(24.01762, abs=1e-5)
    assert ack(0x12, msg.serial) == bytes.fromhex("787805120003" "903f" "0d0a")
    rec = to_record(msg, "864717003283581", RECEIVED)
    row, reason = validate_record(rec, int(RECEIVED.timestamp() * 1000), {"864717003283581"})
    assert reason is None and row["ts_ms"] == int(msg.fix_time.timestamp() * 1000) and row["strap"] == "ok"


def test_gps_lbs_0x22():
    msg = one(GPS_LBS_22)
    assert msg.protocol == 0x22 and msg.serial == 8 and msg.valid
    assert msg.fix_time == datetime(2015, 12, 29, 2, 51, 5, tzinfo=UTC)


def test_gps_fixed_bit_clear_is_a_report_without_a_position():
    for h in (GPS_LBS_22_NOFIX, STATUS_26_NOFIX):
        msg = one(h)
        assert not msg.valid
        rec = to_record(msg, "864717003283581", RECEIVED)
        assert rec["lat"] is None and rec["lon"] is None and rec["ts"] == msg.fix_time.isoformat()


def test_status_0x16_removing_alarm_is_strap_tamper():
    msg = one(STATUS_16_REMOVING)  # Traccar asserts ALARM_REMOVING (terminal-information bits 3-5 = 7)
    assert msg.status.alarms == frozenset({"removing"}) and msg.status.battery_pct == 85
    rec = to_record(msg, "864717003283581", RECEIVED)
    assert rec["strap"] == "tamper" and rec["battery_pct"] == 85 and rec["lat"] == pytest.approx(23.0583839)


def test_status_0x16_power_cut_and_0x26_vibration():
    assert one(STATUS_16_POWER_CUT).status.alarms == frozenset({"power_cut"})
    msg = one(STATUS_26_NOFIX)
    assert msg.protocol == 0x26 and msg.status.alarms == frozenset({"vibration"}) and msg.status.battery_pct == 100


def test_sos_and_low_battery_alarms_from_an_encoded_frame():
    """Encoded here (no published capture of these at hand): the 0x16 layout of the frames above."""
    gps = bytes.fromhex("1302 0C12 141A C5 0279 5143 0C2A 16F6 00 1400".replace(" ", ""))
    cell = bytes.fromhex("09 01CC 00 2866 000EEE".replace(" ", ""))
    sos = decode(Framer().feed(encode_frame(0x16, gps + cell + bytes([0x20, 3, 4, 0x01, 2]), 7))[0])
    assert sos.status.alarms == frozenset({"sos"}) and sos.status.battery_pct == 50
    low = decode(Framer().feed(encode_frame(0x16, gps + cell + bytes([0x18, 1, 4, 0x00, 2]), 8))[0])
    assert low.status.alarms == frozenset({"low_battery"}) and low.status.battery_pct == 16


def test_time_request_reply():
    msg = one(TIME_REQ)
    assert msg == TimeRequest(serial=6)
    reply = time_reply(6, datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    body = bytes.fromhex("0b8a") + bytes([26, 3, 4, 5, 6, 7]) + bytes.fromhex("0006")
    assert reply == b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\r\n"


def test_several_frames_in_one_read_and_one_frame_split_across_reads():
    stream = bytes.fromhex(LOGIN + GPS_LBS_12 + HEARTBEAT + STATUS_16_REMOVING)
    assert [type(decode(f)).__name__ for f in Framer().feed(stream)] == \
        ["Login", "Location", "StatusMessage", "Location"]
    framer, got = Framer(), []
    for i in range(len(stream)):  # one byte per read
        got += framer.feed(stream[i:i + 1])
    assert len(got) == 4 and framer.buffered == 0
    framer = Framer()
    assert framer.feed(stream[:7]) == [] and len(framer.feed(stream[7:40])) == 1


def test_bad_crc_frames_are_refused():
    for h in BAD_CRC:  # both are in Traccar's test data (it does not check CRCs)
        with pytest.raises(FrameError) as e:
            Framer().feed(bytes.fromhex(h))
        assert e.value.code == "bad_crc"


@pytest.mark.parametrize("data,code", [
    (b"GET / HTTP/1.1\r\n", "bad_start"),
    (bytes.fromhex(LOGIN)[:-2] + b"\x00\x00", "bad_stop"),
    (bytes.fromhex("7878020100"), "too_short"),
    (b"\x79\x79\xff\xff", "oversized"),
    (b"\x78\x78\xff" + b"\x00" * 300, "oversized"),
])
def test_malformed_frames(data, code):
    with pytest.raises(FrameError) as e:
        Framer(max_frame=256).feed(data)
    assert e.value.code == code


def test_truncated_frame_waits_and_short_content_is_a_message_error():
    framer = Framer()
    assert framer.feed(bytes.fromhex(GPS_LBS_12)[:-3]) == [] and framer.buffered > 0
    frames = Framer().feed(bytes.fromhex(EMPTY_12))  # CRC good, content empty
    with pytest.raises(FrameError) as e:
        decode(frames[0])
    assert e.value.code == "truncated"


def test_unknown_protocols_are_other_and_extended_frames_frame():
    frame = bytes.fromhex("7979000794050000c9b63e0d0a")  # an 0x94 information frame (79 79)
    msg = decode(Framer().feed(frame)[0])
    assert isinstance(msg, Other) and msg.protocol == 0x94
    assert Framer().feed(encode_frame(0x94, b"x" * 300, 1))[0].content == b"x" * 300


def test_fuzz_10000_frames_no_crash_no_garbage():
    """Random bytes and real frames with bytes flipped: only FrameError, and every record the
    decoder yields is either valid for the validator or rejected with a reason."""
    rng = random.Random(15)
    real = [bytes.fromhex(h) for h in (LOGIN, HEARTBEAT, GPS_10, GPS_LBS_12, GPS_LBS_22, STATUS_16_REMOVING,
                                       STATUS_26_NOFIX, TIME_REQ)]
    now = int(RECEIVED.timestamp() * 1000)
    for i in range(10_000):
        if i % 3 == 0:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 80)))
        else:
            data = bytearray(rng.choice(real))
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            if i % 2:  # keep the CRC right so the content decoder is exercised too
                data[-4:-2] = crc16_x25(bytes(data[2:-4])).to_bytes(2, "big")
        try:
            frames = Framer().feed(bytes(data))
        except FrameError:
            continue
        for f in frames:
            try:
                msg = decode(f)
            except FrameError:
                continue
            if isinstance(msg, (Location, StatusMessage)):
                row, reason = validate_record(to_record(msg, "1", RECEIVED), now, {"1"})
                assert (row is None) != (reason is None)
                if row and row["lat"] is not None:
                    assert -90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180
