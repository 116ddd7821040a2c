"""Full-text search over documents that stays fast under row-level security.

Written by hand (RunSQL with its reverse); the design and its review are in
docs/documents.md, "Search". What it builds:

- `document_search_vector(...)`, kept in `documents_document.search_vector` by a
  BEFORE INSERT OR UPDATE trigger that recomputes it only when a source column
  (title, original_filename, tags, description, ocr_text) changes, or when
  someone wrote the vector itself. Weights: title A, file name + tags B,
  description C, OCR text D, all with the fixed 'english' configuration after
  `document_search_text` has spelled form names both ways ("W-2" -> "w2 w 2",
  "1099-INT" -> "1099int 1099 int"), so "w2", "W-2" and "1099" all find them.
- The OCR text is bounded to its first 150,000 bytes (cut at a word; about 50
  dense pages) and the description to 10,000 characters: a tsvector's lexemes
  must stay under 1 MB. The worst texts we could make (every word new, or
  "ab123"-like words spelled three ways) give up to 2.8 bytes of vector per
  byte of text: at most about 0.45 MB, lexemes under 0.2 MB; ordinary OCR text
  gives about 0.3 bytes per byte (tests/documents/test_search_vector.py).
- `documents_searchword`: each firm's words of document titles, file names and
  tags, with a pg_trgm GIN index: a word that matches nothing is corrected to
  the closest word that does ("recipt" -> "receipt"). Trigram matching against
  every file name instead was measured at 300-450 ms for the typo of a common
  word at 120,000 documents (each of ~20,000 look-alike names rechecked with
  word_similarity); the word list holds a few thousand words per firm.
- A GIN index on the vector (latest versions only: search never lists older
  versions), and rows kept narrow (toast_tuple_target, below).
- `document_search_ids(...)`: the search, as a SECURITY DEFINER function. `@@`
  and the trigram operators are not leakproof, so under the tenant policy
  PostgreSQL must apply the policy before them and cannot use their GIN
  indexes: a big firm's search reads every row of the firm. A policy qual
  leaves a plan only when it folds to TRUE at planning time, which only the
  role can make happen (a setting such as app.rls_bypass is read when the plan
  runs: the plan keeps the policy's filter either way). So the function belongs
  to `advisoros_search`, a NOLOGIN role without BYPASSRLS whose only extra
  right is `document_search_reader`, a SELECT-only policy on documents_document
  and documents_searchword. The function takes the firm from
  app.organization_id itself, returns nothing when it is unset, never honours
  the platform bypass, filters by that firm in its own WHERE and applies the
  member's access rules from its arguments.
  The role must exist before migrating (scripts/devdb.py creates it); without
  it the function stays owned by the migrating role: still correct, but bound
  by the policy, hence slow. `SELECT document_search_adopt_role()` adopts the
  role later.
"""

from __future__ import annotations

from django.db import migrations

from advisoros.tenancy.rls import policy_sql

# The OCR text and the vector (kilobytes each) leave the row for the TOAST table
# once a row passes 1,024 bytes; the metadata (about 350 bytes) stays inline: a
# firm's rows fill pages twenty at a time instead of five, and every scan of
# metadata (filters, the newest first) reads a quarter of the pages. Measured at
# 130,000 documents: heap 201 MB -> 49 MB. (256 was too low: file names and
# checksums left the row too, and each read of one cost a TOAST lookup.)
STORAGE = """
ALTER TABLE documents_document SET (toast_tuple_target = 1024);
"""

STORAGE_REVERSE = """
ALTER TABLE documents_document RESET (toast_tuple_target);
"""

# The numbers below are written into the SQL: 150000 bytes of OCR text and 10000
# characters of description are searchable.
HELPERS = r"""
-- The helpers have SQL-standard bodies (RETURN ...): parsed once, here, so no
-- caller's search_path can change what they call, and inlined into their callers
-- (a SET clause would stop both the inlining and cost a settings change a call:
-- a quarter of the vector's time).
CREATE FUNCTION document_search_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- Form names both ways, and no signed numbers ("W-2" is not 'w' and '-2').
RETURN regexp_replace(
         regexp_replace(
           regexp_replace(
             regexp_replace(lower(t), '_+', ' ', 'g'),
             '\m([a-z]{1,3})-?([0-9]{1,4})\M', '\1\2 \1 \2', 'g'),
           '\m([0-9]{3,4})-?([a-z]{1,4})\M', '\1\2 \1 \2', 'g'),
         '-([0-9])', ' \1', 'g');

CREATE FUNCTION document_search_filename(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- "W-2_2025.pdf" -> "w-2 2025": the extension is no search word.
RETURN translate(regexp_replace(lower(name), '\.[a-z0-9]{1,5}$', ''), '._', '  ');

CREATE FUNCTION document_search_prefix(t text, max_bytes integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r text := left(t, max_bytes);
BEGIN
  IF octet_length(t) <= max_bytes THEN
    RETURN t;
  END IF;
  -- Characters may take up to four bytes: shorten until the bytes fit.
  WHILE octet_length(r) > max_bytes LOOP
    r := left(r, least(char_length(r) - 1,
                       (char_length(r)::bigint * max_bytes / octet_length(r))::int));
  END LOOP;
  -- Never index half a word.
  RETURN regexp_replace(r, '\S+$', '');
END
$$;

-- tags: the tags joined by spaces (array_to_string is only STABLE, and one
-- stable call would keep this IMMUTABLE function from being inlined).
CREATE FUNCTION document_search_vector(
  title text, original_filename text, tags text, description text, ocr_text text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN
  setweight(to_tsvector('english'::regconfig,
    document_search_text(coalesce(title, ''))), 'A')
  || setweight(to_tsvector('english'::regconfig,
    document_search_text(document_search_filename(coalesce(original_filename, '')))
    || ' ' || document_search_text(coalesce(tags, ''))), 'B')
  || setweight(to_tsvector('english'::regconfig,
    document_search_text(left(coalesce(description, ''), 10000))), 'C')
  || setweight(to_tsvector('english'::regconfig,
    document_search_text(CASE WHEN octet_length(ocr_text) <= 150000 THEN ocr_text
                              ELSE document_search_prefix(coalesce(ocr_text, ''), 150000)
                              END)), 'D');

-- The searcher's words as the vector spells them: "W-2" and "w2" -> "w2".
CREATE FUNCTION document_search_words(q text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN regexp_replace(
         regexp_replace(
           regexp_replace(
             regexp_replace(lower(left(q, 200)), '_+', ' ', 'g'),
             '\m([a-z]{1,3})-([0-9]{1,4})\M', '\1\2', 'g'),
           '\m([0-9]{3,4})-([a-z]{1,4})\M', '\1\2', 'g'),
         '([0-9a-z])-([0-9])', '\1 \2', 'g');

-- websearch syntax: "quoted phrase", OR, -excluded.
CREATE FUNCTION document_search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN websearch_to_tsquery('english'::regconfig, document_search_words(q));

-- The words a title, file name and tags add to the firm's word list.
CREATE FUNCTION document_search_title_words(
  title text, original_filename text, tags text
) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_split_to_array(
  document_search_text(coalesce(title, '') || ' '
    || document_search_filename(coalesce(original_filename, '')) || ' '
    || coalesce(tags, '')),
  '[^[:alnum:]]+');
"""

HELPERS_REVERSE = """
DROP FUNCTION IF EXISTS document_search_title_words(text, text, text);
DROP FUNCTION IF EXISTS document_search_query(text);
DROP FUNCTION IF EXISTS document_search_words(text);
DROP FUNCTION IF EXISTS document_search_vector(text, text, text, text, text);
DROP FUNCTION IF EXISTS document_search_prefix(text, integer);
DROP FUNCTION IF EXISTS document_search_filename(text);
DROP FUNCTION IF EXISTS document_search_text(text);
"""

WORDS_RLS, WORDS_RLS_REVERSE = policy_sql("documents_searchword")

WORDS = (
    """
-- No Django model: only the trigger writes it and the search function reads it.
CREATE TABLE documents_searchword (
  organization_id bigint NOT NULL
    REFERENCES tenancy_organization (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  word text NOT NULL,
  PRIMARY KEY (organization_id, word)
);
CREATE INDEX documents_searchword_trgm ON documents_searchword
  USING gin (word gin_trgm_ops);
"""
    + WORDS_RLS
)

WORDS_REVERSE = WORDS_RLS_REVERSE + "DROP TABLE IF EXISTS documents_searchword;"

TRIGGER = r"""
-- No SET clause (it runs for every row written): the names it calls are
-- schema-qualified.
CREATE FUNCTION document_search_vector_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP = 'INSERT'
     OR NEW.search_vector IS NULL
     OR NEW.search_vector IS DISTINCT FROM OLD.search_vector
     OR NEW.title IS DISTINCT FROM OLD.title
     OR NEW.original_filename IS DISTINCT FROM OLD.original_filename
     OR NEW.tags IS DISTINCT FROM OLD.tags
     OR NEW.description IS DISTINCT FROM OLD.description
     OR NEW.ocr_text IS DISTINCT FROM OLD.ocr_text THEN
    NEW.search_vector := public.document_search_vector(
      NEW.title, NEW.original_filename, array_to_string(NEW.tags, ' '),
      NEW.description, NEW.ocr_text);
  END IF;
  IF TG_OP = 'INSERT'
     OR NEW.title IS DISTINCT FROM OLD.title
     OR NEW.original_filename IS DISTINCT FROM OLD.original_filename
     OR NEW.tags IS DISTINCT FROM OLD.tags THEN
    -- In word order, so two writers adding the same new words queue, never
    -- deadlock. Words only accumulate: a stale one can only suggest a word
    -- that then matches nothing.
    INSERT INTO public.documents_searchword (organization_id, word)
    SELECT DISTINCT NEW.organization_id, w
    FROM unnest(public.document_search_title_words(
      NEW.title, NEW.original_filename, array_to_string(NEW.tags, ' '))) AS w
    WHERE char_length(w) BETWEEN 3 AND 40 AND w ~ '[[:alpha:]]'
    ORDER BY 2
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER document_search_vector
BEFORE INSERT OR UPDATE ON documents_document
FOR EACH ROW EXECUTE FUNCTION document_search_vector_update();

-- Existing rows (none on a new database). Migrations pass the policies only
-- through the explicit bypass, for this transaction.
SELECT set_config('app.rls_bypass', 'on', true);
UPDATE documents_document SET search_vector = NULL;
INSERT INTO documents_searchword (organization_id, word)
SELECT DISTINCT d.organization_id, w
FROM documents_document d,
  unnest(document_search_title_words(
    d.title, d.original_filename, array_to_string(d.tags, ' '))) AS w
WHERE char_length(w) BETWEEN 3 AND 40 AND w ~ '[[:alpha:]]'
ON CONFLICT DO NOTHING;
SELECT set_config('app.rls_bypass', '', true);
"""

TRIGGER_REVERSE = """
DROP TRIGGER IF EXISTS document_search_vector ON documents_document;
DROP FUNCTION IF EXISTS document_search_vector_update();
"""

INDEXES = """
CREATE INDEX document_search_vector_gin ON documents_document
  USING gin (search_vector) WHERE is_latest_version;
"""

INDEXES_REVERSE = """
DROP INDEX IF EXISTS document_search_vector_gin;
"""

# The member's rules come from documents.selectors (documents/search.py passes
# them): p_every_level for owners and admins (restricted and confidential too),
# p_assigned_only for staff and read-only members of an assigned-only firm.
SEARCH = r"""
-- Load pg_trgm in this session: a function may then set its parameters.
SELECT similarity('', '');

-- The member's latest document versions that match p_tsq and the filters: the
-- search's one WHERE. Plain SQL, inlined into document_search_ids (whose owner
-- and settings then apply); called by anyone else it is bound by the policies.
CREATE FUNCTION document_search_match(
  p_org bigint, p_tsq tsquery, p_user_id bigint, p_every_level boolean,
  p_clients bigint[], p_client_id bigint, p_category text, p_tax_year integer,
  p_ocr_status text
) RETURNS SETOF public.documents_document
LANGUAGE sql STABLE
AS $$
  SELECT d.*
  FROM public.documents_document d
  WHERE d.organization_id = p_org
    AND d.is_latest_version
    AND (p_client_id IS NULL OR d.client_id = p_client_id)
    AND (p_category IS NULL OR d.category = p_category)
    AND (p_tax_year IS NULL OR d.tax_year = p_tax_year)
    AND (p_ocr_status IS NULL OR d.ocr_status = p_ocr_status)
    -- documents.selectors.client_visibility_q: the member's clients when the
    -- firm shows staff only theirs (NULL: every client). An array, not a
    -- subquery: as the cheapest test it runs first.
    AND (p_clients IS NULL OR d.client_id = ANY (p_clients))
    -- documents.selectors.document_access_q
    AND (p_every_level
         OR d.access_level = 'standard'
         OR (d.access_level = 'restricted' AND (
           d.uploaded_by_id = p_user_id
           OR EXISTS (
             SELECT 1 FROM public.clients_client c
             WHERE c.id = d.client_id AND c.organization_id = p_org
               AND (c.partner_id = p_user_id OR c.manager_id = p_user_id))
           OR EXISTS (
             SELECT 1 FROM public.clients_engagement e
             WHERE e.id = d.engagement_id AND e.organization_id = p_org
               AND (e.partner_id = p_user_id OR e.manager_id = p_user_id))
           OR EXISTS (
             SELECT 1 FROM public.documents_documentaccess a
             WHERE a.document_id = coalesce(d.parent_document_id, d.id)
               AND a.organization_id = p_org AND a.user_id = p_user_id))))
    -- NULL: every document (document_search_ids then tests the words itself).
    AND (p_tsq IS NULL OR d.search_vector @@ p_tsq)
$$;

CREATE FUNCTION document_search_ids(
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
  v_org bigint := NULLIF(current_setting('app.organization_id', true), '')::bigint;
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

REVOKE ALL ON FUNCTION document_search_ids(
  text, bigint, boolean, boolean, bigint, text, integer, text, boolean, real, bigint,
  integer
) FROM PUBLIC;

-- Hand the search function to the advisoros_search role when it exists and the
-- migrating role may act for it without inheriting it (an inherited role would
-- carry the reader policies into every query of the app: then nothing is done).
CREATE FUNCTION document_search_adopt_role() RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  fn constant text := 'document_search_ids(text, bigint, boolean, boolean, bigint,'
    ' text, integer, text, boolean, real, bigint, integer)';
  me constant text := current_user;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'advisoros_search'
                 AND NOT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls) THEN
    RAISE WARNING 'document search: role advisoros_search missing; the search '
      'function stays bound by the tenant policy (correct, but slow).';
    RETURN false;
  END IF;
  IF NOT pg_has_role('advisoros_search', 'MEMBER')
     OR pg_has_role('advisoros_search', 'USAGE') THEN
    RAISE WARNING 'document search: % must be granted advisoros_search WITH '
      'INHERIT FALSE (and SET TRUE); role not adopted.', current_user;
    RETURN false;
  END IF;
  BEGIN
    GRANT SELECT ON public.documents_document, public.documents_searchword,
      public.documents_documentaccess, public.clients_client,
      public.clients_engagement TO advisoros_search;
    -- The reader policies open these two tables to the function's owner only
    -- (SELECT, no writes); the function's WHERE names the firm. Other tables
    -- keep their tenant policy for it, so its access-rule lookups stay bound.
    DROP POLICY IF EXISTS document_search_reader ON public.documents_document;
    CREATE POLICY document_search_reader ON public.documents_document
      AS PERMISSIVE FOR SELECT TO advisoros_search USING (true);
    DROP POLICY IF EXISTS document_search_reader ON public.documents_searchword;
    CREATE POLICY document_search_reader ON public.documents_searchword
      AS PERMISSIVE FOR SELECT TO advisoros_search USING (true);
    -- A new owner needs CREATE on the schema, only for the hand-over.
    GRANT USAGE, CREATE ON SCHEMA public TO advisoros_search;
    EXECUTE format('ALTER FUNCTION %s OWNER TO advisoros_search', fn);
    REVOKE CREATE ON SCHEMA public FROM advisoros_search;
    -- Only the owner may grant: the app may call it, nobody else.
    SET ROLE advisoros_search;
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', fn, me);
    RESET ROLE;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'document search: role not adopted (%)', SQLERRM;
    RETURN false;
  END;
  RETURN true;
END
$$;

REVOKE ALL ON FUNCTION document_search_adopt_role() FROM PUBLIC;

SELECT document_search_adopt_role();
"""

SEARCH_REVERSE = """
DROP FUNCTION IF EXISTS document_search_adopt_role();
DROP POLICY IF EXISTS document_search_reader ON documents_document;
DROP POLICY IF EXISTS document_search_reader ON documents_searchword;
DROP FUNCTION IF EXISTS document_search_ids(
  text, bigint, boolean, boolean, bigint, text, integer, text, boolean, real, bigint,
  integer
);
DROP FUNCTION IF EXISTS document_search_match(
  bigint, tsquery, bigint, boolean, bigint[], bigint, text, integer, text
);
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'advisoros_search') THEN
    REVOKE ALL ON documents_document, documents_searchword, documents_documentaccess,
      clients_client, clients_engagement FROM advisoros_search;
    REVOKE ALL ON SCHEMA public FROM advisoros_search;
  END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        migrations.RunSQL(STORAGE, STORAGE_REVERSE),
        migrations.RunSQL(HELPERS, HELPERS_REVERSE),
        migrations.RunSQL(WORDS, WORDS_REVERSE),
        migrations.RunSQL(TRIGGER, TRIGGER_REVERSE),
        migrations.RunSQL(INDEXES, INDEXES_REVERSE),
        migrations.RunSQL(SEARCH, SEARCH_REVERSE),
    ]
