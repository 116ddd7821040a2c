"""The dashboard's requests outstanding, kept by the database
(documents.models.OutstandingDay and OutstandingPart).

Statement-level triggers on document requests and their items collect the
requests a statement touched (transition tables: a bulk insert of thirty
thousand items recounts each of their requests once) and recount them:

1. lock the requests' rows, in id order (SELECT ... FOR UPDATE). Two writers
   to one request queue here, and since a PL/pgSQL function takes a fresh
   snapshot for each statement (read committed), the second one counts what
   the first committed: never a stale part;
2. count each request again from its items (documents_outstanding_parts: only
   open requests count, a row per day), and add to the firm's days the new
   parts less the parts kept from the last count, in one upsert in key order
   (organization, day), so two writers lock shared days in the same order and
   do not deadlock;
3. keep the new parts for the next time.

Only the rows whose part can change call for a recount: an item's status,
due date or request, a request's status. A request deleted takes its kept
parts back (its items went before it). The triggers run as the writer, so
row-level security applies: a firm's writes reach only its own rows. The
requests already there are counted once at the end (the migration runs as the
owner role, whose policy sees every firm).
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from advisoros.tenancy.rls import EnableRowLevelSecurity

# Keep in step with documents.models: OWED_STATUSES ('open', 'rejected'), the
# received status, the open request status and NO_DUE_DAY (9999-12-31).
SUMMARY_SQL = r"""
CREATE FUNCTION documents_outstanding_parts(ids bigint[])
RETURNS TABLE (organization_id bigint, request_id bigint, day date,
               request_count integer, owed_items integer, received_items integer)
LANGUAGE sql STABLE AS $$
  WITH items AS (
    SELECT r.organization_id, r.id AS request_id,
      coalesce(i.due_date, DATE '9999-12-31') AS day,
      i.status IN ('open', 'rejected') AS owed,
      i.status = 'received' AS received
    FROM public.documents_documentrequest r
    JOIN public.documents_documentrequestitem i ON i.request_id = r.id
    WHERE r.id = ANY (ids) AND r.status = 'open'
  )
  SELECT p.organization_id, p.request_id, p.day, sum(p.request_count)::integer,
    sum(p.owed_items)::integer, sum(p.received_items)::integer
  FROM (
    SELECT i.organization_id, i.request_id, i.day, 0 AS request_count,
      count(*) FILTER (WHERE i.owed) AS owed_items,
      count(*) FILTER (WHERE i.received) AS received_items
    FROM items i GROUP BY i.organization_id, i.request_id, i.day
    UNION ALL
    -- The request itself, on the day its first owed item is due.
    SELECT i.organization_id, i.request_id,
      coalesce(min(i.day) FILTER (WHERE i.owed), DATE '9999-12-31'), 1, 0, 0
    FROM items i GROUP BY i.organization_id, i.request_id
  ) p
  GROUP BY p.organization_id, p.request_id, p.day
  HAVING sum(p.request_count) > 0 OR sum(p.owed_items) > 0
    OR sum(p.received_items) > 0
$$;

CREATE FUNCTION documents_outstanding_recount(ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  -- A deleted request's row is gone (or locked by its deleter until commit).
  PERFORM 1 FROM public.documents_documentrequest
  WHERE id = ANY (ids) ORDER BY id FOR UPDATE;
  INSERT INTO public.documents_outstandingday AS d
    (organization_id, day, request_count, owed_items, received_items)
  SELECT delta.organization_id, delta.day, sum(delta.request_count),
    sum(delta.owed_items), sum(delta.received_items)
  FROM (
    SELECT p.organization_id, p.day, -p.request_count AS request_count,
      -p.owed_items AS owed_items, -p.received_items AS received_items
    FROM public.documents_outstandingpart p WHERE p.request_id = ANY (ids)
    UNION ALL
    SELECT f.organization_id, f.day, f.request_count, f.owed_items,
      f.received_items
    FROM public.documents_outstanding_parts(ids) f
  ) delta
  GROUP BY delta.organization_id, delta.day
  HAVING sum(delta.request_count) <> 0 OR sum(delta.owed_items) <> 0
    OR sum(delta.received_items) <> 0
  ORDER BY delta.organization_id, delta.day
  ON CONFLICT (organization_id, day) DO UPDATE SET
    request_count = d.request_count + EXCLUDED.request_count,
    owed_items = d.owed_items + EXCLUDED.owed_items,
    received_items = d.received_items + EXCLUDED.received_items;
  DELETE FROM public.documents_outstandingpart WHERE request_id = ANY (ids);
  INSERT INTO public.documents_outstandingpart
    (organization_id, request_id, day, request_count, owed_items, received_items)
  SELECT f.organization_id, f.request_id, f.day, f.request_count, f.owed_items,
    f.received_items
  FROM public.documents_outstanding_parts(ids) f
  ORDER BY f.request_id, f.day;
END $$;

-- One function per table and event: a transition table exists only for the
-- events that declare it.
CREATE FUNCTION documents_item_outstanding_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.documents_outstanding_recount(
    ARRAY(SELECT DISTINCT n.request_id FROM new_rows n));
  RETURN NULL;
END $$;
CREATE FUNCTION documents_item_outstanding_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.documents_outstanding_recount(
    ARRAY(SELECT DISTINCT o.request_id FROM old_rows o));
  RETURN NULL;
END $$;
CREATE FUNCTION documents_item_outstanding_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Only the requests of items whose part changed (a title, a reminder, a
  -- reviewer's name change nothing); an item moved counts in both requests.
  PERFORM public.documents_outstanding_recount(ARRAY(
    SELECT DISTINCT touched.id
    FROM old_rows o JOIN new_rows n ON n.id = o.id,
      unnest(ARRAY[o.request_id, n.request_id]) AS touched (id)
    WHERE (o.organization_id, o.request_id, o.status, o.due_date)
      IS DISTINCT FROM (n.organization_id, n.request_id, n.status, n.due_date)));
  RETURN NULL;
END $$;

CREATE FUNCTION documents_request_outstanding_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Nothing to count unless items came first (a deferred foreign key).
  PERFORM public.documents_outstanding_recount(ARRAY(
    SELECT n.id FROM new_rows n WHERE n.status = 'open' AND EXISTS (
      SELECT 1 FROM public.documents_documentrequestitem i
      WHERE i.request_id = n.id)));
  RETURN NULL;
END $$;
CREATE FUNCTION documents_request_outstanding_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.documents_outstanding_recount(ARRAY(SELECT o.id FROM old_rows o));
  RETURN NULL;
END $$;
CREATE FUNCTION documents_request_outstanding_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Closed, cancelled, opened again (a reminder sent changes nothing).
  PERFORM public.documents_outstanding_recount(ARRAY(
    SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.organization_id, o.status) IS DISTINCT FROM (n.organization_id, n.status)));
  RETURN NULL;
END $$;

CREATE TRIGGER documents_item_outstanding_inserted
  AFTER INSERT ON documents_documentrequestitem
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_item_outstanding_inserted();
CREATE TRIGGER documents_item_outstanding_deleted
  AFTER DELETE ON documents_documentrequestitem
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_item_outstanding_deleted();
CREATE TRIGGER documents_item_outstanding_updated
  AFTER UPDATE ON documents_documentrequestitem
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_item_outstanding_updated();
CREATE TRIGGER documents_request_outstanding_inserted
  AFTER INSERT ON documents_documentrequest
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_request_outstanding_inserted();
CREATE TRIGGER documents_request_outstanding_deleted
  AFTER DELETE ON documents_documentrequest
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_request_outstanding_deleted();
CREATE TRIGGER documents_request_outstanding_updated
  AFTER UPDATE ON documents_documentrequest
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION documents_request_outstanding_updated();

-- What is there already, counted once.
INSERT INTO documents_outstandingpart
  (organization_id, request_id, day, request_count, owed_items, received_items)
SELECT f.organization_id, f.request_id, f.day, f.request_count, f.owed_items,
  f.received_items
FROM documents_outstanding_parts(ARRAY(
  SELECT r.id FROM documents_documentrequest r WHERE r.status = 'open')) f;
INSERT INTO documents_outstandingday
  (organization_id, day, request_count, owed_items, received_items)
SELECT organization_id, day, sum(request_count), sum(owed_items), sum(received_items)
FROM documents_outstandingpart
GROUP BY organization_id, day;
"""

SUMMARY_DROP_SQL = r"""
DROP TRIGGER IF EXISTS documents_request_outstanding_updated ON documents_documentrequest;
DROP TRIGGER IF EXISTS documents_request_outstanding_deleted ON documents_documentrequest;
DROP TRIGGER IF EXISTS documents_request_outstanding_inserted ON documents_documentrequest;
DROP TRIGGER IF EXISTS documents_item_outstanding_updated ON documents_documentrequestitem;
DROP TRIGGER IF EXISTS documents_item_outstanding_deleted ON documents_documentrequestitem;
DROP TRIGGER IF EXISTS documents_item_outstanding_inserted ON documents_documentrequestitem;
DROP FUNCTION IF EXISTS documents_request_outstanding_updated();
DROP FUNCTION IF EXISTS documents_request_outstanding_deleted();
DROP FUNCTION IF EXISTS documents_request_outstanding_inserted();
DROP FUNCTION IF EXISTS documents_item_outstanding_updated();
DROP FUNCTION IF EXISTS documents_item_outstanding_deleted();
DROP FUNCTION IF EXISTS documents_item_outstanding_inserted();
DROP FUNCTION IF EXISTS documents_outstanding_recount(bigint[]);
DROP FUNCTION IF EXISTS documents_outstanding_parts(bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0010_review_queue_index"),
        ("tenancy", "0012_plans_and_firm_subscriptions"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutstandingDay",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "organization_id",
                        "day",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("day", models.DateField()),
                ("request_count", models.IntegerField(default=0)),
                ("owed_items", models.IntegerField(default=0)),
                ("received_items", models.IntegerField(default=0)),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.organization",
                    ),
                ),
            ],
            options={
                "db_table": "documents_outstandingday",
            },
        ),
        migrations.CreateModel(
            name="OutstandingPart",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "request_id",
                        "day",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("day", models.DateField()),
                ("request_count", models.SmallIntegerField(default=0)),
                ("owed_items", models.IntegerField(default=0)),
                ("received_items", models.IntegerField(default=0)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.organization",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="documents.documentrequest",
                    ),
                ),
            ],
            options={
                "db_table": "documents_outstandingpart",
            },
        ),
        EnableRowLevelSecurity("OutstandingDay"),
        EnableRowLevelSecurity("OutstandingPart"),
        migrations.RunSQL(SUMMARY_SQL, SUMMARY_DROP_SQL),
    ]
