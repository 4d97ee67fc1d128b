//! `vars`: named values taken from resource fields and substituted for `$(NAME)`
//! in the fields of the var-reference table at the end of a build.
//!
//! (Being written.)

use std::path::PathBuf;

use rustomize_yaml::Value;

use crate::accumulate::Accumulation;
use crate::error::Error;
use crate::fieldspecs::FieldSpecTables;
use crate::load::kustomization::Kustomization;
use crate::resource::Resource;

/// One var as declared, with the kustomization that declared it.
#[derive(Clone, Debug)]
pub struct Var {
    /// The var's name.
    pub name: String,
    /// The declaration as written.
    pub declaration: Value,
    /// The kustomization file declaring it.
    pub origin: PathBuf,
}

/// Merges the kustomization's `vars` into the accumulation (kustomize's MergeVars).
pub fn merge(k: &Kustomization, acc: &mut Accumulation) -> Result<(), Error> {
    let _ = acc;
    if k.vars.is_null() {
        return Ok(());
    }
    Err(Error::Kustomization {
        path: k.path.clone(),
        message: "field 'vars' is not supported by rustomize yet".to_owned(),
    })
}

/// Substitutes `$(VAR)` references at the end of the build.
pub fn resolve(
    resources: &mut [Resource],
    vars: &[Var],
    tables: &FieldSpecTables,
) -> Result<(), Error> {
    let _ = (resources, vars, tables);
    Ok(())
}
