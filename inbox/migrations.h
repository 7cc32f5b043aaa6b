/* migrations: the schema as an ordered list of numbered steps. */
#ifndef HEARD_MIGRATIONS_H
#define HEARD_MIGRATIONS_H

/* Number of migrations; the schema version they lead to. */
int		 migrations_count(void);
/* SQL of migration n (1-based), which moves version n - 1 to n. */
const char	*migrations_sql(int n);

#endif
