/*
 * sqlite.h - what readers of the SQLite store must know about its indexes.
 *
 * The credential indexes are partial: only login rows are in them.  SQLite
 * uses a partial index only for a query whose WHERE contains the index's
 * WHERE term verbatim, so the dashboard writes its credential searches with
 * these strings.
 *
 * Two forms exist.  Stores created before 2026-12 have the IN form; SQLite
 * evaluates an IN list of three constants through a temporary b-tree, about
 * 1.4 us for every row inserted, login or not.  New stores get the same set
 * written as three equalities, which cost a few string compares per row.
 * A query that ANDs both strings can use either store's index.
 */
#ifndef HP_STORE_SQLITE_H
#define HP_STORE_SQLITE_H

#define HP_SQ_LOGIN_WHERE \
    "(eventid = 'login.success' OR eventid = 'login.failed' OR eventid = 'http.credentials')"
#define HP_SQ_LOGIN_WHERE_V1 "eventid IN ('login.success', 'login.failed', 'http.credentials')"

#endif
