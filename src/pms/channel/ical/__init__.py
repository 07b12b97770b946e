"""iCalendar sync core: parse feeds, render our export, reconcile ranges, fetch feeds safely."""
