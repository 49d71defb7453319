"""Training and qualification (资质): competence planned, trained, assessed, recorded, kept current and proven."""
