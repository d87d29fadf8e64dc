"""Councils whose Legistar records the ``legistar`` source reads (issue 20)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0013_swept_agency_types"),
    ]

    operations = [
        migrations.CreateModel(
            name="Council",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "client",
                    models.SlugField(
                        help_text="The {client}.legistar.com name.", max_length=64, unique=True
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="Display name, e.g. Oakland City Council.", max_length=200
                    ),
                ),
                (
                    "token",
                    models.CharField(
                        blank=True,
                        help_text=(
                            "Name of the environment variable holding the API token, "
                            "if one is needed."
                        ),
                        max_length=100,
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                (
                    "jurisdiction",
                    models.ForeignKey(
                        help_text="The city or county.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="councils",
                        to="tracker.agency",
                    ),
                ),
                (
                    "police",
                    models.ForeignKey(
                        blank=True,
                        help_text=(
                            "The police department or sheriff whose purchases the council "
                            "approves."
                        ),
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="overseeing_councils",
                        to="tracker.agency",
                    ),
                ),
            ],
            options={
                "ordering": ["client"],
            },
        ),
    ]
