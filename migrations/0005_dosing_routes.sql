-- The route a dosing rule's maximum is for: `oral` (every label dose in the
-- KB so far is for tablets, capsules or an oral solution), `parenteral`
-- (injected or infused) or `any`. A dose given by another route (intrathecal
-- baclofen, methocarbamol injection) is not checked against it, and that is
-- said, rather than passed as checked.
ALTER TABLE dosing_rules ADD COLUMN route TEXT NOT NULL DEFAULT 'oral';
