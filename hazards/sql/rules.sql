-- The registry's rules as SQL reads them, each defined here once (hazards/rules.py
-- applies this file at every `migrate`; Python reads the same functions through
-- hazards/rules.py, the browser through the API's `state`). Which states count as signed
-- and as fenced (registry_state_signed, registry_state_fenced) hazards/rules.py writes
-- from SIGNED_STATES and FENCED_STATES, which Python's counts use as they are.

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

-- Evidence decays. A check verifies a site's state on the registry's day it was made and
-- the days after, registry_evidence_days(is_temporary) days in all (written from
-- settings.EVIDENCE_MAX_AGE_DAYS and TEMPORARY_EVIDENCE_MAX_AGE_DAYS by hazards/rules.py;
-- temporary sites, works under construction, decay faster). After that, and for a site
-- never checked (NULL), the state is unverified on day `day`. The report counts
-- unverified sites as of its day; the map, the lists and the API call an open site with
-- an unverified state due for inspection (registry_site_due).
CREATE OR REPLACE FUNCTION registry_unverified(checked_on date, is_temporary boolean, day date)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT checked_on IS NULL OR checked_on + registry_evidence_days(is_temporary) <= day
$$;

-- Whether a site never counts on any day, not even before it was found out: deleted (a
-- merge included) or closed as a duplicate. registry_counts reads it, and the summary's
-- triggers, to know how far back a change reaches.
CREATE OR REPLACE FUNCTION registry_never_counted(deleted boolean, close_reason text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT deleted OR close_reason = 'duplicate'
$$;

-- Whether a site counts toward the target on day `day` (DESIGN): not one that never
-- counts (registry_never_counted), with deep water, active from `from_day` (its first
-- day, or the first of the details in question) and not closed by `day` (`closed_on`,
-- NULL while open). The reports' as-of counts, their summary and the campaigns read it.
CREATE OR REPLACE FUNCTION registry_counts(
    deleted boolean, close_reason text, deep_water boolean, from_day date, closed_on date, day date)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT NOT registry_never_counted(deleted, close_reason) AND deep_water AND from_day <= day
           AND (closed_on IS NULL OR closed_on > day)
$$;

-- Whether a site is due for inspection on the registry's day `day`: open, and its state
-- unverified that day.
CREATE OR REPLACE FUNCTION registry_site_due(state text, checked timestamptz, is_temporary boolean, day date)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state <> 'closed' AND registry_unverified(registry_local_date(checked), is_temporary, day)
$$;

-- The same at the instant `at`: on the registry's day of `at`. (A query over many sites
-- that knows its day gives the day: this converts `at` again for every site.)
CREATE OR REPLACE FUNCTION registry_site_due(state text, checked timestamptz, is_temporary boolean, at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT registry_site_due(state, checked, is_temporary, registry_local_date(at))
$$;
