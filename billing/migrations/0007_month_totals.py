"""Billed and collected by month, kept by triggers (billing.models.MonthTotal).

The table is made in SQL, as documents' search words are
(documents/migrations/0002_search.py), and Django learns of it through
SeparateDatabaseAndState: a composite key (organization, month), a foreign key
that cascades in the database (a firm's deletion takes its rows whichever
order Django deletes in) and the tenant policies (advisoros.tenancy.rls).

The triggers run as the writer, under its firm's policy (every row they touch
is the written row's firm). An invoice's or a payment's share is added when it
is inserted (an upsert), taken back when it is deleted (an update only, so a
firm's deletion, which empties this table first, leaves nothing behind), and
both on an update that changes the share (the WHEN clauses: a status change that keeps an invoice issued,
such as sent to paid, touches no month row, so paying an invoice locks its
month's row only for the payment). The upsert's row lock is the last one a
billing service takes (after the invoice's row and the number counter), so
writers of one firm and month queue briefly and do not deadlock.

Existing rows are added up once, under the explicit bypass.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from advisoros.tenancy.rls import policy_sql

RLS, RLS_REVERSE = policy_sql("billing_monthtotal")

TABLE = (
    """
CREATE TABLE billing_monthtotal (
  organization_id bigint NOT NULL
    REFERENCES tenancy_organization (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  month date NOT NULL,
  billed_cents bigint NOT NULL DEFAULT 0,
  collected_cents bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, month)
);
"""
    + RLS
)

TABLE_REVERSE = RLS_REVERSE + "DROP TABLE IF EXISTS billing_monthtotal;"

TRIGGERS = r"""
CREATE FUNCTION billing_month_total_add(
  org bigint, day date, billed bigint, collected bigint
) RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO public.billing_monthtotal AS t
    (organization_id, month, billed_cents, collected_cents)
  VALUES (org, date_trunc('month', day::timestamp)::date, billed, collected)
  ON CONFLICT (organization_id, month) DO UPDATE
  SET billed_cents = t.billed_cents + EXCLUDED.billed_cents,
      collected_cents = t.collected_cents + EXCLUDED.collected_cents
$$;

-- Taking a share back only updates: a firm's deletion (advisoros.tenancy.offboarding)
-- empties this table before the invoices and payments, and their deletion must not
-- write rows back.
CREATE FUNCTION billing_month_total_take(
  org bigint, day date, billed bigint, collected bigint
) RETURNS void
LANGUAGE sql
AS $$
  UPDATE public.billing_monthtotal
  SET billed_cents = billed_cents - billed,
      collected_cents = collected_cents - collected
  WHERE organization_id = org AND month = date_trunc('month', day::timestamp)::date
$$;

-- An issued invoice's share: its total in cents, negative for a credit note;
-- NULL (no share) for a draft, a void one or one without an issue date.
CREATE FUNCTION billing_invoice_share(status text, kind text, issue_date date, total numeric)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE
    WHEN issue_date IS NULL OR status IN ('draft', 'void') THEN NULL
    WHEN kind = 'credit_note' THEN -(total * 100)::bigint
    ELSE (total * 100)::bigint
  END
$$;

CREATE FUNCTION billing_payment_share(status text, amount numeric, refunded numeric)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN status = 'succeeded' THEN ((amount - refunded) * 100)::bigint END
$$;

CREATE FUNCTION billing_invoice_month_total() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  share bigint;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    share := public.billing_invoice_share(OLD.status, OLD.kind, OLD.issue_date, OLD.total);
    IF share IS NOT NULL THEN
      PERFORM public.billing_month_total_take(OLD.organization_id, OLD.issue_date, share, 0);
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    share := public.billing_invoice_share(NEW.status, NEW.kind, NEW.issue_date, NEW.total);
    IF share IS NOT NULL THEN
      PERFORM public.billing_month_total_add(NEW.organization_id, NEW.issue_date, share, 0);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION billing_payment_month_total() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  share bigint;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    share := public.billing_payment_share(OLD.status, OLD.amount, OLD.amount_refunded);
    IF share IS NOT NULL THEN
      PERFORM public.billing_month_total_take(OLD.organization_id, OLD.received_on, 0, share);
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    share := public.billing_payment_share(NEW.status, NEW.amount, NEW.amount_refunded);
    IF share IS NOT NULL THEN
      PERFORM public.billing_month_total_add(NEW.organization_id, NEW.received_on, 0, share);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER billing_invoice_month_total
AFTER INSERT OR DELETE ON billing_invoice
FOR EACH ROW EXECUTE FUNCTION billing_invoice_month_total();

CREATE TRIGGER billing_invoice_month_total_update
AFTER UPDATE ON billing_invoice
FOR EACH ROW
WHEN (
  public.billing_invoice_share(OLD.status, OLD.kind, OLD.issue_date, OLD.total)
    IS DISTINCT FROM
  public.billing_invoice_share(NEW.status, NEW.kind, NEW.issue_date, NEW.total)
  OR OLD.issue_date IS DISTINCT FROM NEW.issue_date
  OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
)
EXECUTE FUNCTION billing_invoice_month_total();

CREATE TRIGGER billing_payment_month_total
AFTER INSERT OR DELETE ON billing_payment
FOR EACH ROW EXECUTE FUNCTION billing_payment_month_total();

CREATE TRIGGER billing_payment_month_total_update
AFTER UPDATE ON billing_payment
FOR EACH ROW
WHEN (
  public.billing_payment_share(OLD.status, OLD.amount, OLD.amount_refunded)
    IS DISTINCT FROM
  public.billing_payment_share(NEW.status, NEW.amount, NEW.amount_refunded)
  OR OLD.received_on IS DISTINCT FROM NEW.received_on
  OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
)
EXECUTE FUNCTION billing_payment_month_total();

-- The rows already there. Migrations pass the policies only through the
-- explicit bypass, for this transaction.
SELECT set_config('app.rls_bypass', 'on', true);
INSERT INTO billing_monthtotal (organization_id, month, billed_cents, collected_cents)
SELECT organization_id, month, sum(billed), sum(collected) FROM (
  SELECT organization_id, date_trunc('month', issue_date::timestamp)::date AS month,
         billing_invoice_share(status, kind, issue_date, total) AS billed,
         0::bigint AS collected
  FROM billing_invoice
  WHERE billing_invoice_share(status, kind, issue_date, total) IS NOT NULL
  UNION ALL
  SELECT organization_id, date_trunc('month', received_on::timestamp)::date,
         0, billing_payment_share(status, amount, amount_refunded)
  FROM billing_payment
  WHERE status = 'succeeded'
) AS shares
GROUP BY organization_id, month;
SELECT set_config('app.rls_bypass', '', true);
"""

TRIGGERS_REVERSE = """
DROP TRIGGER IF EXISTS billing_payment_month_total_update ON billing_payment;
DROP TRIGGER IF EXISTS billing_payment_month_total ON billing_payment;
DROP TRIGGER IF EXISTS billing_invoice_month_total_update ON billing_invoice;
DROP TRIGGER IF EXISTS billing_invoice_month_total ON billing_invoice;
DROP FUNCTION IF EXISTS billing_payment_month_total();
DROP FUNCTION IF EXISTS billing_invoice_month_total();
DROP FUNCTION IF EXISTS billing_payment_share(text, numeric, numeric);
DROP FUNCTION IF EXISTS billing_invoice_share(text, text, date, numeric);
DROP FUNCTION IF EXISTS billing_month_total_take(bigint, date, bigint, bigint);
DROP FUNCTION IF EXISTS billing_month_total_add(bigint, date, bigint, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_dashboard_month_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(TABLE, TABLE_REVERSE),
                migrations.RunSQL(TRIGGERS, TRIGGERS_REVERSE),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="MonthTotal",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "organization_id",
                                "month",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("month", models.DateField()),
                        ("billed_cents", models.BigIntegerField(default=0)),
                        ("collected_cents", models.BigIntegerField(default=0)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                    ],
                    options={"db_table": "billing_monthtotal"},
                ),
            ],
        ),
    ]
