import asyncio

from services.common.keyed_lock import KeyedLock


async def test_same_key_callers_run_one_at_a_time() -> None:
    locks = KeyedLock()
    inside = 0
    most_inside = 0

    async def use() -> None:
        nonlocal inside, most_inside
        async with locks.hold("a"):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(use() for _ in range(8)))
    assert most_inside == 1
    assert len(locks) == 0


async def test_other_keys_do_not_wait() -> None:
    locks = KeyedLock()
    async with locks.hold("a"):
        async with asyncio.timeout(1):
            async with locks.hold("b"):
                assert len(locks) == 2
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLock()
    async with locks.hold("a"):
        waiter = asyncio.create_task(_hold_briefly(locks, "a"))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert len(locks) == 1
    assert len(locks) == 0


async def _hold_briefly(locks: KeyedLock, key: str) -> None:
    async with locks.hold(key):
        await asyncio.sleep(0)
