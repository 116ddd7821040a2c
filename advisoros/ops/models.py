from __future__ import annotations

from django.db import models


class MigrationTiming(models.Model):
    """How long one migration took to apply, written by `manage.py migrate`
    (advisoros.tenancy's command) at the end of its run: the operations page
    shows the slow ones, which are the ones to rewrite before a big firm's
    tables make them lock for minutes. Platform data: no firm."""

    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    applied_at = models.DateTimeField()
    seconds = models.FloatField()

    class Meta:
        ordering = ["-applied_at"]

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}: {self.seconds:.2f} s"
