"""Two people completing two tasks of one workflow at the same moment.

Each thread has its own database connection and transaction. The first holds
the workflow's row lock while the second tries; both must count, and the task
waiting on both must become ready.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from advisoros.tenancy.db import tenant_context
from tests.factories import wait_for_lock_waiters
from tests.workflows.conftest import fresh, tasks_of
from workflows.models import TaskStatus
from workflows.services.tasks import task_transition


@pytest.mark.django_db(transaction=True)
def test_two_completions_at_once_both_count_and_release_the_task_waiting_on_both(
    cast, make_template, make_wf_client, start
):
    template = make_template(
        cast.alpha,
        "1040",
        [
            ("Gather", {}),
            ("Organizer", {}),
            ("Prepare", {"after": ["Gather", "Organizer"]}),
        ],
    )
    execution = start(template, make_wf_client(cast.alpha))
    tasks = tasks_of(execution)
    first_moved = threading.Event()
    release_first = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                task_transition(
                    task=tasks["Gather"], to_status=TaskStatus.COMPLETED, by=cast.sam
                )
                first_moved.set()
                release_first.wait(10)  # hold the lock while the other one tries
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            first_moved.set()
            connection.close()

    def second():
        try:
            first_moved.wait(10)
            with tenant_context(cast.alpha):
                task_transition(
                    task=tasks["Organizer"],
                    to_status=TaskStatus.COMPLETED,
                    by=cast.adam,
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_moved.wait(10)
    # The second completion waits for the first transaction's lock.
    waited = wait_for_lock_waiters()
    assert not second_done.is_set()
    release_first.set()
    for thread in threads:
        thread.join(20)

    assert waited
    assert errors == []
    execution = fresh(execution)
    assert (execution.tasks_done, execution.tasks_total) == (2, 3)
    assert tasks_of(execution)["Prepare"].status == TaskStatus.READY
