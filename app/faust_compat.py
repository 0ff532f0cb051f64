"""A fix for faust-streaming 0.15.x losing records that arrive while a worker starts.

The loss (found with a record published during start-up; the worker never answered it,
never dead-lettered it, and committed past it):

1. A rebalance pauses the stream partitions (Faust-level pause: the fetcher just does not
   ask aiokafka for them) and table recovery resumes the consumer's *flow* so that the
   changelogs can be read ("Resuming flow..." in the log).
2. ``Recovery.on_recovery_completed`` then resumes the stream partitions and *awaits*
   ``consumer.perform_seek()`` (seek to the committed offsets) while the flow is still
   active. During that await the fetcher delivers the stream partitions' first records
   into the agents' channel queues and advances its read offsets past them.
3. Right after the seek it calls ``app.flow_control.resume()``, which *clears* every
   channel queue (they are created with ``clear_on_resume=True``, meant to drop stale
   events fetched before a rebalance). Records delivered in step 2 and not yet taken
   by their agent vanish: never processed, never acked, never redelivered (aiokafka's
   position and Faust's read offset are already past them), and the acks of the later
   records commit over them.

Faust's own design is that nothing is delivered between "seek to committed" and "clear
the queues": on the other paths the flow is stopped there. The fix restores exactly that
invariant: stop the consumer's flow before Faust resumes the stream partitions and
seeks; Faust resumes the flow itself right after the seek (``consumer.resume_flow()``),
so the fetcher then delivers from the committed offsets into empty queues. Anything the
fetcher had in hand when the flow stopped is dropped by Faust's ``getmany`` and read
again from the committed offsets (it seeks back whenever it returns while the flow is
stopped). If a new rebalance interrupts this, its own recovery resumes the flow.

Applied by configuration, not by patching Faust: ``faust.App(..., **faust_settings())``
makes the app build :class:`StartupSafeTableManager`, whose recovery service is
:class:`StartupSafeRecovery`. Checked on faust-streaming 0.15.3 with aiokafka 0.14.
"""

from __future__ import annotations

from typing import Any

from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery


class StartupSafeRecovery(Recovery):
    """Table recovery that never lets the stream partitions deliver before their seek."""

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        # Faust resumes the flow after its seek to the committed offsets.
        self.app.consumer.stop_flow()
        await super().on_recovery_completed(generation_id)

    async def _resume_streams(self, generation_id: int = 0) -> None:
        # The path taken when an app has no tables: same order, same fix.
        self.app.consumer.stop_flow()
        await super()._resume_streams(generation_id)


class StartupSafeTableManager(TableManager):
    """Faust's table manager with :class:`StartupSafeRecovery` as its recovery service."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = StartupSafeRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


def faust_settings() -> dict[str, Any]:
    """The ``faust.App`` settings that apply these fixes."""
    return {"TableManager": StartupSafeTableManager}
