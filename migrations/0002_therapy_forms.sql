-- Forms in which a cramp therapy is dispensed under names of their own: the
-- magnesium salts are separate ingredients (as in RxNorm), yet a row of
-- "magnesium oxide 400 mg" is the magnesium therapy. `form` is a drug name or
-- `class:NAME`; batch's default mode checks every drug it covers as the
-- therapy.
CREATE TABLE therapy_forms (
    therapy TEXT NOT NULL,
    form    TEXT NOT NULL,
    sources TEXT NOT NULL,
    origin  TEXT NOT NULL,
    PRIMARY KEY (therapy, form)
);
