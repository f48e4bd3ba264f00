// BillingServiceImpl.
#include "services/billing/billing_service.h"
