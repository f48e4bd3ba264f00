// AuthServiceImpl.
#include "services/auth/auth_service.h"
