"""Training pages, one module per area: catalogue (qualifications, courses, documents, requirements), loop
(assignments, sessions, attendance, assessments, certificates, effectiveness), reports (matrix, passport,
traceability, calendar) and expiry (expiring list, notifications)."""
