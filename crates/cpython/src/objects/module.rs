//! Modules: their dict and name, and finding one in `sys.modules`.

use heapscope_coredump::{Addr, ProcessImage};

use super::{DecodeError, Heap, Kind};

/// Longest module name read (characters).
const MAX_MODULE_NAME: usize = 4096;

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// The module's `__dict__` (`md_dict`).
    pub fn module_dict(&self, module: Addr) -> Result<Addr, DecodeError> {
        self.expect_kind(module, Kind::Module)?;
        let dict = self.ptr(module, &self.layout.module.md_dict, "module")?;
        if dict.is_null() {
            return Err(DecodeError::malformed(module, "module", "md_dict is NULL"));
        }
        Ok(dict)
    }

    /// The module's `__name__`: the `__name__` entry of its dict when it is a str, else `md_name`.
    pub fn module_name(&self, module: Addr) -> Result<String, DecodeError> {
        let dict = self.module_dict(module)?;
        if let Some(name) = self.dict_get_str(dict, "__name__")? {
            if let Some(s) = self.str_if_str(name, MAX_MODULE_NAME)? {
                return Ok(s);
            }
        }
        let name = self.ptr(module, &self.layout.module.md_name, "module")?;
        if name.is_null() {
            return Err(DecodeError::malformed(module, "module", "no __name__ and md_name is NULL"));
        }
        Ok(self.str_value(name, MAX_MODULE_NAME)?.text)
    }

    /// The module called `name` in `modules`, the `sys.modules` dict (`interp->modules`, `interp->imports.modules`),
    /// when it is there and is a module.
    pub fn find_module(&self, modules: Addr, name: &str) -> Result<Option<Addr>, DecodeError> {
        match self.dict_get_str(modules, name)? {
            Some(m) if self.kind(m)? == Kind::Module => Ok(Some(m)),
            _ => Ok(None),
        }
    }

    /// The dict of the module called `name` in `modules` (see [`Heap::find_module`]).
    pub fn find_module_dict(&self, modules: Addr, name: &str) -> Result<Option<Addr>, DecodeError> {
        match self.find_module(modules, name)? {
            Some(m) => self.module_dict(m).map(Some),
            None => Ok(None),
        }
    }
}
