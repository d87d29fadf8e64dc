"""Agency types for the buying units the agency sweeps search (issue 17).

``load_starter_data`` never overwrites an existing agency, so installations loaded before
the types existed get them here; a type a curator already set is kept.
"""

from django.db import migrations

SWEPT_TYPES = {
    "ice": "law enforcement",
    "hsi": "law enforcement",
    "ice-ero": "law enforcement",
    "cbp": "law enforcement",
    "usbp": "law enforcement",
    "usss": "law enforcement",
    "fbi": "law enforcement",
    "dea": "law enforcement",
    "atf": "law enforcement",
    "usms": "law enforcement",
    "tsa": "homeland security",
    "uscis": "homeland security",
}


def set_types(apps, schema_editor):
    Agency = apps.get_model("tracker", "Agency")
    for slug, agency_type in SWEPT_TYPES.items():
        Agency.objects.filter(slug=slug, agency_type="").update(agency_type=agency_type)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0012_quota_use")]

    operations = [migrations.RunPython(set_types, migrations.RunPython.noop)]
