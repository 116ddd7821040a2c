"""Full-text search over documents that stays fast under row-level security.

Written by hand (RunSQL with its reverse). What it builds, and why:

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
- GIN indexes (latest versions only: search never lists older versions) on the
  vector and, with pg_trgm, on lower(original_filename) for typo-tolerant
  file-name matches.
- `document_search_ids(...)`: the one search query, as a SECURITY DEFINER
  function. Full-text (`@@`) and trigram operators are not leakproof, so under
  the tenant policy PostgreSQL must apply the policy before them and cannot use
  their GIN indexes: a big firm's search reads every row of the firm. A policy
  qual leaves a plan only when it folds to TRUE at planning time, which only
  the role can make happen (a GUC such as app.rls_bypass is read at run time:
  the plan keeps the policy and its filter). So the function is owned by
  `advisoros_search`, a NOLOGIN role without BYPASSRLS whose only extra right
  is `document_search_reader`, a SELECT-only policy on documents_document. The
  function reads the firm from app.organization_id itself, returns nothing when
  it is unset, never honours the platform bypass, filters by that firm in its
  own WHERE and applies the member's access rules from its arguments.
  The role must exist before migrating (scripts/devdb.py creates it; see
  docs/documents.md "Search"); without it the function stays owned by the
  migrating role: still correct, but bound by the policy, hence slow.
  `SELECT document_search_adopt_role()` adopts the role later.
"""

from __future__ import annotations

from django.db import migrations

# The numbers below are written into the SQL: 150000 bytes of OCR text and 10000
# characters of description are searchable; 1000 of the newest matches are
# ranked (documents.search.CANDIDATES).
HELPERS = r"""
CREATE FUNCTION document_search_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- Form names both ways, and no signed numbers ("W-2" is not 'w' and '-2').
  SELECT regexp_replace(
           regexp_replace(
             regexp_replace(
               regexp_replace(lower(t), '_+', ' ', 'g'),
               '\m([a-z]{1,3})-?([0-9]{1,4})\M', '\1\2 \1 \2', 'g'),
             '\m([0-9]{3,4})-?([a-z]{1,4})\M', '\1\2 \1 \2', 'g'),
           '-([0-9])', ' \1', 'g')
$$;

CREATE FUNCTION document_search_filename(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- "W-2_2025.pdf" -> "w-2 2025": the extension is no search word.
  SELECT translate(regexp_replace(lower(name), '\.[a-z0-9]{1,5}$', ''), '._', '  ')
$$;

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

CREATE FUNCTION document_search_vector(
  title text, original_filename text, tags text[], description text, ocr_text text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT
    setweight(to_tsvector('english'::regconfig,
      document_search_text(coalesce(title, ''))), 'A')
    || setweight(to_tsvector('english'::regconfig,
      document_search_text(document_search_filename(coalesce(original_filename, '')))
      || ' ' || document_search_text(coalesce(array_to_string(tags, ' '), ''))), 'B')
    || setweight(to_tsvector('english'::regconfig,
      document_search_text(left(coalesce(description, ''), 10000))), 'C')
    || setweight(to_tsvector('english'::regconfig,
      document_search_text(
        document_search_prefix(coalesce(ocr_text, ''), 150000))), 'D')
$$;

CREATE FUNCTION document_search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- The searcher's words as the vector spells them: "W-2" and "w2" -> 'w2'.
  -- websearch syntax: "quoted phrase", OR, -excluded.
  SELECT websearch_to_tsquery('english'::regconfig,
    regexp_replace(
      regexp_replace(
        regexp_replace(
          regexp_replace(lower(left(q, 200)), '_+', ' ', 'g'),
          '\m([a-z]{1,3})-([0-9]{1,4})\M', '\1\2', 'g'),
        '\m([0-9]{3,4})-([a-z]{1,4})\M', '\1\2', 'g'),
      '([0-9a-z])-([0-9])', '\1 \2', 'g'))
$$;

CREATE FUNCTION document_search_vector_update() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
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
    NEW.search_vector := document_search_vector(
      NEW.title, NEW.original_filename, NEW.tags::text[], NEW.description,
      NEW.ocr_text);
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER document_search_vector
BEFORE INSERT OR UPDATE ON documents_document
FOR EACH ROW EXECUTE FUNCTION document_search_vector_update();

-- Existing rows (none on a new database). Migrations pass the policy only
-- through the explicit bypass, for this transaction.
SELECT set_config('app.rls_bypass', 'on', true);
UPDATE documents_document SET search_vector = NULL;
SELECT set_config('app.rls_bypass', '', true);
"""

HELPERS_REVERSE = """
DROP TRIGGER IF EXISTS document_search_vector ON documents_document;
DROP FUNCTION IF EXISTS document_search_vector_update();
DROP FUNCTION IF EXISTS document_search_query(text);
DROP FUNCTION IF EXISTS document_search_vector(text, text, text[], text, text);
DROP FUNCTION IF EXISTS document_search_prefix(text, integer);
DROP FUNCTION IF EXISTS document_search_filename(text);
DROP FUNCTION IF EXISTS document_search_text(text);
"""

INDEXES = """
CREATE INDEX document_search_vector_gin ON documents_document
  USING gin (search_vector) WHERE is_latest_version;
CREATE INDEX document_filename_trgm ON documents_document
  USING gin (lower(original_filename) gin_trgm_ops) WHERE is_latest_version;
"""

INDEXES_REVERSE = """
DROP INDEX IF EXISTS document_filename_trgm;
DROP INDEX IF EXISTS document_search_vector_gin;
"""

# Arguments: the firm comes from the setting, never from the caller. The member's
# rules come from documents.selectors (documents/search.py passes them):
# p_every_level for owners and admins (restricted and confidential too),
# p_assigned_only for staff and read-only members of an assigned-only firm.
SEARCH = r"""
CREATE FUNCTION document_search_ids(
  p_query text,
  p_user_id bigint,
  p_every_level boolean,
  p_assigned_only boolean,
  p_client_id bigint DEFAULT NULL,
  p_category text DEFAULT NULL,
  p_tax_year integer DEFAULT NULL,
  p_ocr_status text DEFAULT NULL,
  p_after_rank real DEFAULT NULL,
  p_after_id bigint DEFAULT NULL,
  p_limit integer DEFAULT 20
) RETURNS TABLE (
  document_id bigint, rank real, candidates integer, look_alike boolean
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
-- Plan every call with its arguments: a rare word wants the GIN index, a
-- common one the newest rows first; a generic plan would pick one for both.
SET plan_cache_mode = force_custom_plan
SET pg_trgm.word_similarity_threshold = 0.5
AS $$
DECLARE
  v_org bigint := NULLIF(current_setting('app.organization_id', true), '')::bigint;
  v_tsq tsquery;
  v_fts boolean;
  v_trgm text := lower(btrim(left(coalesce(p_query, ''), 100)));
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 101);
BEGIN
  -- No firm, no rows: the same fail-closed rule as the policies. The platform
  -- bypass is deliberately not honoured here.
  IF v_org IS NULL OR p_user_id IS NULL OR v_trgm = '' THEN
    RETURN;
  END IF;
  v_tsq := document_search_query(p_query);
  v_fts := numnode(v_tsq) > 0;
  RETURN QUERY
  WITH matched AS MATERIALIZED (
    SELECT d.id, d.search_vector, d.original_filename,
           v_fts AND d.search_vector @@ v_tsq AS exact
    FROM public.documents_document d
    WHERE d.organization_id = v_org
      AND d.is_latest_version
      AND ((v_fts AND d.search_vector @@ v_tsq)
           OR lower(d.original_filename) %> v_trgm)
      AND (p_client_id IS NULL OR d.client_id = p_client_id)
      AND (p_category IS NULL OR d.category = p_category)
      AND (p_tax_year IS NULL OR d.tax_year = p_tax_year)
      AND (p_ocr_status IS NULL OR d.ocr_status = p_ocr_status)
      -- documents.selectors.client_visibility_q
      AND (NOT p_assigned_only OR EXISTS (
        SELECT 1 FROM public.clients_client c
        WHERE c.id = d.client_id AND c.organization_id = v_org
          AND (c.partner_id = p_user_id OR c.manager_id = p_user_id
               OR c.staff_id = p_user_id)))
      -- documents.selectors.document_access_q
      AND (p_every_level
           OR d.access_level = 'standard'
           OR (d.access_level = 'restricted' AND (
             d.uploaded_by_id = p_user_id
             OR EXISTS (
               SELECT 1 FROM public.clients_client c
               WHERE c.id = d.client_id AND c.organization_id = v_org
                 AND (c.partner_id = p_user_id OR c.manager_id = p_user_id))
             OR EXISTS (
               SELECT 1 FROM public.clients_engagement e
               WHERE e.id = d.engagement_id AND e.organization_id = v_org
                 AND (e.partner_id = p_user_id OR e.manager_id = p_user_id))
             OR EXISTS (
               SELECT 1 FROM public.documents_documentaccess a
               WHERE a.document_id = coalesce(d.parent_document_id, d.id)
                 AND a.organization_id = v_org AND a.user_id = p_user_id))))
    -- A word in most documents matches tens of thousands: rank the newest
    -- 1000 (the page says so when it happens).
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT 1000
  ), counted AS (
    SELECT count(*)::integer AS n, bool_or(exact) AS any_exact FROM matched
  ), ranked AS (
    -- Documents with the words, or, when none has them, the file names that
    -- look like them (typos): never a look-alike beside an exact match.
    SELECT m.id,
           (CASE WHEN m.exact
                 THEN ts_rank('{0.1, 0.2, 0.4, 1.0}', m.search_vector, v_tsq)
                 ELSE 0 END
            + 0.3 * word_similarity(v_trgm, lower(m.original_filename)))::real AS r
    FROM matched m, counted
    WHERE m.exact OR NOT counted.any_exact
  )
  SELECT ranked.id, ranked.r, counted.n, NOT counted.any_exact
  FROM ranked, counted
  WHERE p_after_rank IS NULL OR (ranked.r, ranked.id) < (p_after_rank, p_after_id)
  ORDER BY ranked.r DESC, ranked.id DESC
  LIMIT v_limit;
END
$$;

REVOKE ALL ON FUNCTION document_search_ids(
  text, bigint, boolean, boolean, bigint, text, integer, text, real, bigint, integer
) FROM PUBLIC;

-- Hand the search function to the advisoros_search role when it exists and the
-- migrating role may act for it without inheriting it (an inherited role would
-- carry the reader policy into every query of the app: then nothing is done).
CREATE FUNCTION document_search_adopt_role() RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  fn constant text := 'document_search_ids(text, bigint, boolean, boolean, bigint,'
    ' text, integer, text, real, bigint, integer)';
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
    GRANT SELECT ON public.documents_document, public.documents_documentaccess,
      public.clients_client, public.clients_engagement TO advisoros_search;
    DROP POLICY IF EXISTS document_search_reader ON public.documents_document;
    -- The reader policy opens documents_document to the function's owner only
    -- (SELECT, no writes); the function's WHERE names the firm. Other tables
    -- keep their tenant policy for it, so its access-rule lookups stay bound.
    CREATE POLICY document_search_reader ON public.documents_document
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
DROP FUNCTION IF EXISTS document_search_ids(
  text, bigint, boolean, boolean, bigint, text, integer, text, real, bigint, integer
);
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'advisoros_search') THEN
    REVOKE ALL ON documents_document, documents_documentaccess, clients_client,
      clients_engagement FROM advisoros_search;
    REVOKE ALL ON SCHEMA public FROM advisoros_search;
  END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [
        migrations.RunSQL(HELPERS, HELPERS_REVERSE),
        migrations.RunSQL(INDEXES, INDEXES_REVERSE),
        migrations.RunSQL(SEARCH, SEARCH_REVERSE),
    ]
