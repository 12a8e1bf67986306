-- Labels of the codes in the mission's languages. Each code keeps its
-- English name (the fallback) and gains an object of labels keyed by BCP 47
-- language tag, {"fa-AF": "...", "ps": "..."}, as the taxonomy file gives
-- them (civcasd taxonomy load validates tags, text and lengths). A code
-- without labels has '{}': every language falls back to its name.

ALTER TABLE party_groups ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE parties ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE tactics ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE weapons ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE source_types ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE regions ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE admin_areas ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE impacts ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE attributions ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE victim_roles ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
