//! Services: shared connections other components name by id (`service: ha`). One file per
//! type; `TYPES` lists them.

pub mod home_assistant;

use crate::config::Config;
use crate::config::spec::ComponentType;

/// Every service type, in the order `types` and the schema list them.
pub const TYPES: &[&dyn ComponentType] = &[&home_assistant::TYPE];

/// The Home Assistant client of a service id, if the config defines it.
pub fn home_assistant(config: &Config, id: &str) -> Option<crate::transport::home_assistant::Client> {
    let service = config.services.iter().find(|s| s.id == id)?;
    let settings = service.settings.downcast::<home_assistant::HomeAssistantService>()?;
    Some(settings.client(service.timeout))
}
