// AdapterServiceImpl.
#include "services/adapter/adapter_service.h"
