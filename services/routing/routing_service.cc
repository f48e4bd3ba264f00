// RoutingServiceImpl.
#include "services/routing/routing_service.h"
