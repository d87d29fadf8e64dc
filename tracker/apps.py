import gc

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

# Objects allocated (net) between two runs of the cycle collector's youngest generation.
# Python's default is 700. A scrape or an export allocates millions of short-lived objects
# (parsed records, model instances, rows) that form no cycles; collecting that often also
# walked the older generations, which hold the resolvers' large caches, again and again.
GC_THRESHOLD = 50_000


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Spyglass tracker"

    def ready(self) -> None:
        from tracker import tasks
        from tracker.caching import forget_cached_counts
        from tracker.models import Agency, Technology, Vendor
        from tracker.services.scraping import events_changed

        events_changed.connect(tasks.queue_after_import, dispatch_uid="after-import")
        first, *older = gc.get_threshold()
        gc.set_threshold(max(first, GC_THRESHOLD), *older)

        for model in (Agency, Vendor, Technology):
            post_save.connect(forget_cached_counts, sender=model, dispatch_uid=f"choices-{model}")
            post_delete.connect(
                forget_cached_counts, sender=model, dispatch_uid=f"choices-del-{model}"
            )
