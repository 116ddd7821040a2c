"""Document search: owned by the owner role, and for the proven firm only.

The search function took its firm from the bare `app.organization_id` setting
and belonged to `advisoros_search`, a role the application could SET ROLE to,
whose reader policy opened every firm's documents. Now:

- the function belongs to the owner role (the migrating role, which
  `platform_owner` already exempts from the tenant policies, so the GIN indexes
  stay usable: the reason the separate role existed, documents/0002);
- it takes its firm from `app_tenant_org()`, which answers only for a firm the
  session has proven (advisoros.tenancy.rls), so SQL that sets another firm's
  id gets nothing;
- the reader policies and the adoption helper go; the application is granted
  EXECUTE (advisoros.tenancy.dbroles) and is member of no other role.
"""

from __future__ import annotations

from django.db import migrations

FORWARDS = r"""
DROP POLICY IF EXISTS document_search_reader ON documents_document;
DROP POLICY IF EXISTS document_search_reader ON documents_searchword;
DROP FUNCTION IF EXISTS document_search_adopt_role();
SELECT similarity('', '');
CREATE OR REPLACE FUNCTION document_search_ids(
  p_query text,
  p_user_id bigint,
  p_every_level boolean,
  p_assigned_only boolean,
  p_client_id bigint DEFAULT NULL,
  p_category text DEFAULT NULL,
  p_tax_year integer DEFAULT NULL,
  p_ocr_status text DEFAULT NULL,
  p_correct boolean DEFAULT true,
  p_after_rank real DEFAULT NULL,
  p_after_id bigint DEFAULT NULL,
  p_limit integer DEFAULT 20
) RETURNS TABLE (
  document_id bigint, rank real, candidates integer, corrected text
)
-- VOLATILE only because it asks the planner for an estimate (EXPLAIN, which a
-- STABLE function may not run); it writes nothing.
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
-- Plan every call with its arguments: a rare word wants the GIN index, a
-- common one the newest rows first; a generic plan would pick one for both.
SET plan_cache_mode = force_custom_plan
SET pg_trgm.similarity_threshold = 0.4
AS $$
DECLARE
  -- The proven firm only (advisoros.tenancy.rls): a bare setting opens nothing.
  v_org bigint := public.app_tenant_org();
  v_tsq tsquery := document_search_query(coalesce(p_query, ''));
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 101);
  v_corrected text;
  v_words text[];
  v_fix text;
  v_candidate text;
  v_changed boolean := false;
  v_share double precision;
  v_plan json;
  v_walk boolean;
  v_clients bigint[];
BEGIN
  -- No firm, no rows: the same fail-closed rule as the policies. The platform
  -- bypass is deliberately not honoured here.
  IF v_org IS NULL OR p_user_id IS NULL OR numnode(v_tsq) = 0 THEN
    RETURN;
  END IF;
  IF p_assigned_only THEN  -- documents.selectors.client_visibility_q
    v_clients := ARRAY(
      SELECT c.id FROM public.clients_client c
      WHERE c.organization_id = v_org
        AND (c.partner_id = p_user_id OR c.manager_id = p_user_id
             OR c.staff_id = p_user_id));
  END IF;
  LOOP
    -- Words in a third of all documents or more ("tax"): walk the firm's newest
    -- documents and read a vector only for rows that pass the cheap tests (the
    -- member's clients, access level, filters): as a plain condition the words
    -- would be tested first, reading the vector of every row walked past.
    -- Rarer words: the GIN index.
    -- (pg_stats hides a table that row-level security binds: ask the planner.)
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM public.documents_document d'
      ' WHERE d.search_vector @@ $1' INTO v_plan USING v_tsq;
    SELECT (v_plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision
           / greatest(c.reltuples, 1)
    INTO v_share
    FROM pg_class c WHERE c.oid = 'public.documents_document'::regclass;
    v_walk := v_tsq::text !~ '[|!<]' AND coalesce(v_share, 0) >= 0.3;
    RETURN QUERY
    WITH matched AS MATERIALIZED (
      -- A word in most documents matches tens of thousands: rank the newest
      -- 1000 (the page says so when it happens). Walking, the inner query
      -- yields the member's documents newest first (OFFSET 0 keeps the test of
      -- the words out of it, and the LIMIT makes it an ordered index walk
      -- that stops early), and only those rows have their vector read.
      SELECT v.id, v.search_vector
      FROM (
        SELECT m.id, m.search_vector
        FROM document_search_match(v_org, CASE WHEN v_walk THEN NULL ELSE v_tsq END,
          p_user_id, p_every_level, v_clients, p_client_id, p_category,
          p_tax_year, p_ocr_status) m
        ORDER BY m.created_at DESC, m.id DESC
        OFFSET 0
      ) v
      WHERE NOT v_walk OR v.search_vector @@ v_tsq
      LIMIT 1000
    ), ranked AS (
      SELECT m.id, ts_rank('{0.1, 0.2, 0.4, 1.0}', m.search_vector, v_tsq) AS r
      FROM matched m
    )
    SELECT ranked.id, ranked.r, (SELECT count(*) FROM matched)::integer, v_corrected
    FROM ranked
    WHERE p_after_rank IS NULL
       OR (ranked.r, ranked.id) < (p_after_rank, p_after_id)
    ORDER BY ranked.r DESC, ranked.id DESC
    LIMIT v_limit;
    EXIT WHEN FOUND OR v_corrected IS NOT NULL OR NOT p_correct
      OR p_after_id IS NOT NULL;
    -- Nothing matches: a word that matches none of the member's documents is
    -- replaced by the most similar word of the firm's titles, file names and
    -- tags that matches some of them ("recipt" -> "receipt"). Only documents
    -- the member may see decide, so nothing is learnt about the others.
    -- (The existence checks read a MATERIALIZED CTE: planned for all its rows,
    -- a word that matches nothing takes the GIN index instead of a walk through
    -- the whole firm looking for a first match that never comes.)
    v_words := regexp_split_to_array(btrim(document_search_words(p_query)), '\s+');
    FOR i IN 1 .. coalesce(array_length(v_words, 1), 0) LOOP
      CONTINUE WHEN char_length(v_words[i]) < 3 OR v_words[i] !~ '[[:alpha:]]'
        OR numnode(plainto_tsquery('english', v_words[i])) = 0
        OR EXISTS (WITH m AS MATERIALIZED (
             SELECT 1 FROM document_search_match(v_org,
               plainto_tsquery('english', v_words[i]), p_user_id, p_every_level,
               v_clients, p_client_id, p_category, p_tax_year, p_ocr_status))
           SELECT 1 FROM m);
      v_fix := NULL;
      FOR v_candidate IN
        SELECT w.word
        FROM public.documents_searchword w
        WHERE w.organization_id = v_org AND w.word % v_words[i]
        ORDER BY similarity(w.word, v_words[i]) DESC, w.word
        LIMIT 10
      LOOP
        IF EXISTS (WITH m AS MATERIALIZED (
             SELECT 1 FROM document_search_match(v_org,
               plainto_tsquery('english', v_candidate), p_user_id, p_every_level,
               v_clients, p_client_id, p_category, p_tax_year, p_ocr_status))
           SELECT 1 FROM m) THEN
          v_fix := v_candidate;
          EXIT;
        END IF;
      END LOOP;
      IF v_fix IS NOT NULL THEN
        v_words[i] := v_fix;
        v_changed := true;
      END IF;
    END LOOP;
    EXIT WHEN NOT v_changed;
    v_corrected := array_to_string(v_words, ' ');
    v_tsq := plainto_tsquery('english', v_corrected);
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION document_search_ids(text, bigint, boolean, boolean, bigint,
  text, integer, text, boolean, real, bigint, integer) FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0006_document_client_shared"),
        ("tenancy", "0007_tenant_proof"),
    ]

    operations = [migrations.RunSQL(FORWARDS, migrations.RunSQL.noop)]
