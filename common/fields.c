#include "common/fields.h"

#include <string.h>

const field_info field_table[FIELD_COUNT] = {
    [FIELD_ID] = {"id", "id", 0, 0, ""},
    [FIELD_TITLE] = {"title", "title", 1, 0, ""},
    [FIELD_URL] = {"url", "url", 0, 0, ""},
    [FIELD_DATE] = {"date", "date", 0, 0, ""},
    [FIELD_AUTHOR] = {"author", "author", 1, 1, FIELD_PREFIX_AUTHOR},
    [FIELD_CATEGORY] = {"category", "category", 1, 1, FIELD_PREFIX_CATEGORY},
    [FIELD_BODY] = {"body", "body", 1, 0, ""},
};

int field_user_name_check(const char *name)
{
    if (!strcmp(name, "text")) return -1;
    for (int k = 0; k < FIELD_COUNT; k++)
        if (!strcmp(name, field_table[k].name)) return -1;
    size_t n = strlen(name);
    if (n == 0 || n >= FIELD_USER_NAME_MAX || name[0] < 'a' || name[0] > 'z') return -2;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n ? 0 : -2;
}
