//! What each kernel family binds, in binding order, declared once per family with [`bindings!`]: the
//! declaration makes the struct of buffers a launch fills by name, the bind group built from it in
//! declaration order, and the table ([`Binding`]) that [`slots`](super::kernels::slots) (the bind-group layout)
//! and tests/shader_interface.rs (against naga's reflection of the WGSL) read. So the Rust list of a
//! family's slots and the order its buffers reach `bind` cannot drift apart.

use crate::gpu::kernel::Slot;

/// One binding of a family's group 0: the WGSL variable's name, what sits there, and the WGSL name of
/// what it holds (of an array's element for storage arrays).
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub name: &'static str,
    pub slot: Slot,
    pub ty: &'static str,
}

/// `Name { var: Slot<Type>, … }` or, for a training-loop family, `Name: common { … }` (its first three
/// bindings shaders/common.wgsl's `cfg`, `step`, `states`, from a [`Common`](super::kernels::Common)): a struct
/// with a buffer per binding, `Name::TABLE`, and `bind`, which passes the buffers in table order.
/// `Type` is the Rust type whose [`WgslType`](crate::gpu::shader_structs::WgslType) names the WGSL one.
macro_rules! bindings {
    ($(#[$meta:meta])* $name:ident: common { $($field:ident : $slot:ident<$ty:ty>),+ $(,)? }) => {
        $(#[$meta])*
        pub struct $name<'a> {
            pub common: &'a $crate::gpu::kernels::Common,
            $(pub $field: &'a wgpu::Buffer),+
        }

        impl $name<'_> {
            pub const TABLE: &'static [$crate::gpu::bindings::Binding] = &[
                $crate::gpu::bindings::bindings!(@one cfg: Uniform<$crate::gpu::shader_structs::RunUniform>),
                $crate::gpu::bindings::bindings!(@one step: Uniform<$crate::gpu::shader_structs::StepParams>),
                $crate::gpu::bindings::bindings!(@one states: ReadWrite<$crate::gpu::shader_structs::ModelStateGpu>),
                $($crate::gpu::bindings::bindings!(@one $field: $slot<$ty>)),+
            ];

            pub fn bind(
                &self,
                gpu: &$crate::gpu::context::Gpu,
                family: &$crate::gpu::kernel::Family,
            ) -> wgpu::BindGroup {
                family.bind(gpu, &self.common.with(&[$(self.$field),+]))
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $($field:ident : $slot:ident<$ty:ty>),+ $(,)? }) => {
        $(#[$meta])*
        pub struct $name<'a> {
            $(pub $field: &'a wgpu::Buffer),+
        }

        impl $name<'_> {
            pub const TABLE: &'static [$crate::gpu::bindings::Binding] =
                &[$($crate::gpu::bindings::bindings!(@one $field: $slot<$ty>)),+];

            pub fn bind(
                &self,
                gpu: &$crate::gpu::context::Gpu,
                family: &$crate::gpu::kernel::Family,
            ) -> wgpu::BindGroup {
                family.bind(gpu, &[$(self.$field),+])
            }
        }
    };
    (@one $field:ident : $slot:ident<$ty:ty>) => {
        $crate::gpu::bindings::Binding {
            name: stringify!($field),
            slot: $crate::gpu::kernel::Slot::$slot,
            ty: <$ty as $crate::gpu::shader_structs::WgslType>::WGSL,
        }
    };
}
pub(crate) use bindings;
