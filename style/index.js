import './base.css';
import './changes.css';
