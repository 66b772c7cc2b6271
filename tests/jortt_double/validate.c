/* validate.c: type checks of request fields, reported the way Jortt (Grape)
 * reports them: one {"key","param","message"} per problem, all at once. */
#include "jd.h"

#include <string.h>

void jd_detail(json_object **details, const char *key, const char *param, const char *message)
{
    if (!*details)
        *details = json_object_new_array();
    json_object *d = json_object_new_object();
    json_object_object_add(d, "key", json_object_new_string(key));
    if (param)
        json_object_object_add(d, "param", json_object_new_string(param));
    json_object_object_add(d, "message", json_object_new_string(message));
    json_object_array_add(*details, d);
}

bool jd_has(json_object *obj, const char *key)
{
    json_object *v;
    return obj && json_object_object_get_ex(obj, key, &v) && v != NULL;
}

const char *jd_get_str(json_object *obj, const char *key)
{
    json_object *v;
    if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool is_short_string(json_object *v)
{
    return json_object_is_type(v, json_type_string) && json_object_get_string_len(v) <= JD_MAX_STRING;
}

static bool check_one(json_object *v, const jd_field *f)
{
    switch (f->type) {
    case JD_T_STRING:
        return is_short_string(v);
    case JD_T_BOOL:
        return json_object_is_type(v, json_type_boolean);
    case JD_T_INT:
        return json_object_is_type(v, json_type_int);
    case JD_T_DATE:
        return json_object_is_type(v, json_type_string) && jd_is_date(json_object_get_string(v));
    case JD_T_UUID:
        return json_object_is_type(v, json_type_string) && jd_is_uuid(json_object_get_string(v));
    case JD_T_ENUM:
        if (!json_object_is_type(v, json_type_string))
            return false;
        for (const char *const *ch = f->choices; *ch; ch++)
            if (strcmp(*ch, json_object_get_string(v)) == 0)
                return true;
        return false;
    case JD_T_STRINGS:
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 100)
            return false;
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!is_short_string(json_object_array_get_idx(v, i)))
                return false;
        return true;
    case JD_T_COUNTRY: {
        if (!json_object_is_type(v, json_type_string))
            return false;
        const char *s = json_object_get_string(v);
        return strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
    }
    case JD_T_STR_OR_INT:
        return is_short_string(v) || json_object_is_type(v, json_type_int);
    case JD_T_ARRAY:
        return json_object_is_type(v, json_type_array);
    case JD_T_OBJECT:
        return json_object_is_type(v, json_type_object);
    }
    return false;
}

void jd_check_fields(json_object *obj, const jd_field *fields, const char *prefix, json_object **details)
{
    char param[256];
    json_object_object_foreach(obj, k, v)
    {
        const jd_field *f = fields;
        while (f->name && strcmp(f->name, k) != 0)
            f++;
        if (prefix)
            snprintf(param, sizeof param, "%s[%.200s]", prefix, k);
        else
            snprintf(param, sizeof param, "%.200s", k);
        if (!f->name) {
            jd_detail(details, "is_unknown", param, "is not a known parameter");
            continue;
        }
        if (v == NULL)
            continue;
        if (!check_one(v, f)) {
            const char *msg = "is invalid";
            if (f->type == JD_T_ENUM)
                msg = "does not have a valid value";
            jd_detail(details, f->type == JD_T_ENUM ? "values_not_valid" : "is_invalid", param, msg);
        }
    }
}
