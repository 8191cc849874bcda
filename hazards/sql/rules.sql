-- The registry's rules as SQL reads them, each defined here once (hazards/rules.py
-- applies this file at every `migrate`; Python reads the same functions through
-- hazards/rules.py, the browser through the API's `state`).

-- A site's state, from its sign and barrier (those of its latest inspection) and whether
-- it is closed: protected = sign in place and barrier complete. Never inspected: both
-- NULL, unprotected. The generated column hazards_site.state is this function.
CREATE OR REPLACE FUNCTION registry_site_state(signage text, barrier text, closed boolean)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN closed THEN 'closed'
        WHEN signage = 'in_place' AND barrier = 'complete' THEN 'protected'
        WHEN signage = 'in_place' THEN 'signed_only'
        WHEN barrier = 'complete' THEN 'fenced_only'
        ELSE 'unprotected'
    END
$$;

-- The registry's day of an instant: its date in the registry's time zone
-- (registry_time_zone(), written from settings.TIME_ZONE by hazards/rules.py).
CREATE OR REPLACE FUNCTION registry_local_date(at timestamptz)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (at AT TIME ZONE registry_time_zone())::date
$$;

-- Whether a state counts as signed (sign in place) or fenced (barrier complete).
CREATE OR REPLACE FUNCTION registry_state_signed(state text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('signed_only', 'protected')
$$;

CREATE OR REPLACE FUNCTION registry_state_fenced(state text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('fenced_only', 'protected')
$$;
