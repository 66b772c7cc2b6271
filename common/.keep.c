/* Keeps per-binary libraries non-empty while a folder holds only main.c. */
typedef int m2j_keep_translation_unit_nonempty;
