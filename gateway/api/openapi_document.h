// The OpenAPI 3.1 document of the API (gateway/api/openapi.json, built into
// ergwd and served at GET /v1/openapi.json).
#pragma once

#include <string_view>

namespace ergw::api {

std::string_view openapi_document();

}  // namespace ergw::api
