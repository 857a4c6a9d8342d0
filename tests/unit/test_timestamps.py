import datetime as dt

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.common.timestamps import timestamp

MOMENTS = [
    dt.datetime(2026, 11, 26, 18, 3, 1, 123456, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),  # before the epoch
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_timestamp_matches_protobufs_own_conversion(moment: dt.datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment)
    assert timestamp(moment) == expected
    assert timestamp(moment).ToDatetime(dt.UTC) == moment
