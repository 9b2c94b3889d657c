//! The web front end (`sustrack serve`): routes, pages, sessions, CSRF and
//! headers. No SQL and no rule lives here: handlers parse a form into the
//! domain's typed input, call `register`, `accounts` or `report`, and map a
//! domain `Field` to its form field.
