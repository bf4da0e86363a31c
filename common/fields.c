#include "common/fields.h"

const field_info field_table[FIELD_COUNT] = {
    [FIELD_ID] = {"id", "id", 0, 0, ""},
    [FIELD_TITLE] = {"title", "title", 1, 0, ""},
    [FIELD_URL] = {"url", "url", 0, 0, ""},
    [FIELD_DATE] = {"date", "date", 0, 0, ""},
    [FIELD_AUTHOR] = {"author", "author", 1, 1, FIELD_PREFIX_AUTHOR},
    [FIELD_CATEGORY] = {"category", "category", 1, 1, FIELD_PREFIX_CATEGORY},
    [FIELD_BODY] = {"body", "body", 1, 0, ""},
};
