-- A condition that always includes another: severe renal impairment (eGFR
-- below 30, dialysis, kidney failure) is renal impairment (eGFR below 60), so
-- a patient stated to be on dialysis meets the cautions for both. A lab value
-- crossing both thresholds already gives both; this covers a stated one.
CREATE TABLE condition_implications (
    condition TEXT NOT NULL,
    implies   TEXT NOT NULL,
    sources   TEXT NOT NULL,
    origin    TEXT NOT NULL,
    PRIMARY KEY (condition, implies)
);
