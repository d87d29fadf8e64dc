from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Spyglass tracker"

    def ready(self) -> None:
        from tracker import tasks
        from tracker.caching import forget_cached_counts
        from tracker.models import Agency, Technology, Vendor
        from tracker.services.scraping import events_changed

        events_changed.connect(tasks.queue_after_import, dispatch_uid="after-import")

        for model in (Agency, Vendor, Technology):
            post_save.connect(forget_cached_counts, sender=model, dispatch_uid=f"choices-{model}")
            post_delete.connect(
                forget_cached_counts, sender=model, dispatch_uid=f"choices-del-{model}"
            )
