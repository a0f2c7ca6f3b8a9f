-- An interaction row that holds only when one of its drugs is given by a
-- given route: diltiazem with dantrolene is about the dantrolene infusion,
-- not the capsules taken for spasticity. `route` is `parenteral` (injected or
-- infused) or `oral`; a medication whose route is not written meets either.
CREATE TABLE interaction_routes (
    rule    TEXT NOT NULL,
    drug    TEXT NOT NULL,
    route   TEXT NOT NULL,
    sources TEXT NOT NULL,
    origin  TEXT NOT NULL,
    PRIMARY KEY (rule, drug)
);
