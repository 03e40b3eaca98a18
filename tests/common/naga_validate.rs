//! How the shader tests validate a module as the engine compiles it: every check, no capabilities
//! beyond subgroups where the module uses them, and of subgroup operations only shuffles, in compute
//! shaders only.
#![allow(dead_code)] // each shader test uses part of it

use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags, Validator};

/// The capabilities a module needs: subgroups for the `+subgroup` variants, nothing otherwise.
pub fn capabilities(subgroups: bool) -> Capabilities {
    if subgroups {
        Capabilities::SUBGROUP
    } else {
        Capabilities::empty()
    }
}

pub fn validator(subgroups: bool) -> Validator {
    let mut v = Validator::new(ValidationFlags::all(), capabilities(subgroups));
    if subgroups {
        v.subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(SubgroupOperationSet::SHUFFLE);
    }
    v
}
